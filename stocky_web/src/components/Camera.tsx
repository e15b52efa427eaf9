import { useEffect, useRef, useState } from "react";
import { createPortal } from "react-dom";
import { api } from "../api/client";
import { errorText } from "../hooks";
import { t } from "../i18n";
import { describeScan, type ScanMessage } from "../scan";

interface Detector {
  detect(source: HTMLVideoElement): Promise<{ rawValue: string }[]>;
}

declare global {
  interface Window {
    BarcodeDetector?: new (options?: { formats: string[] }) => Detector;
  }
}

const FORMATS = ["ean_13", "ean_8", "upc_a", "upc_e", "code_128", "qr_code"];

type Reader = (video: HTMLVideoElement) => Promise<string | null>;

/** The browser's own BarcodeDetector where there is one, else the decoder
 * bundled with Stocky (a chunk of its own, fetched only now). */
async function reader(): Promise<Reader> {
  if (window.BarcodeDetector) {
    const detector = new window.BarcodeDetector({ formats: FORMATS });
    return async (video) => (await detector.detect(video))[0]?.rawValue ?? null;
  }
  const read = (await import("./decoder")).frameReader();
  return async (video) => read(video);
}
const EVERY_MS = 250;
const SAME_CODE_PAUSE_MS = 2500;

/** Scans through the camera as the signed-in person: each code read goes to
 * POST /scanner/scan, exactly like a scanner's; or, given `onCode`, the
 * first code read goes there and the camera closes (a form's barcode).
 * The dialog lives under <body>, not where it was opened (the header), so
 * it takes none of that place's colours. */
export default function Camera({ onClose, onCode }: { onClose: () => void; onCode?: (code: string) => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const dialog = useRef<HTMLDialogElement>(null);
  const [message, setMessage] = useState<string>(t(onCode ? "scanBarcodeHint" : "cameraHint"));
  const title = t(onCode ? "scanBarcode" : "scanWithCamera");
  const handOver = useRef(onCode);

  useEffect(() => {
    dialog.current?.showModal?.();
    if (!navigator.mediaDevices?.getUserMedia) {
      setMessage(t("cameraUnavailable"));
      return;
    }
    const detector = reader();
    let stream: MediaStream | null = null;
    let timer: ReturnType<typeof setInterval> | null = null;
    let last = { code: "", at: 0 };
    let stopped = false;
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then((s) => {
      stream = s;
      if (stopped || !video.current) return s.getTracks().forEach((track) => track.stop());
      video.current.srcObject = s;
      void video.current.play();
      timer = setInterval(async () => {
        if (stopped || !video.current || video.current.readyState < 2) return;
        const code = await (await detector)(video.current).catch(() => null);
        if (!code || (code === last.code && Date.now() - last.at < SAME_CODE_PAUSE_MS)) return;
        last = { code, at: Date.now() };
        if (handOver.current) {
          if (stopped) return;
          stopped = true;
          handOver.current(code);
          dialog.current?.close();
          return;
        }
        try {
          const result = await api<Omit<ScanMessage, "ok" | "action">>("POST", "/scanner/scan", { msg: code });
          setMessage(describeScan({ action: "scan_result", ok: true, ...result }).text);
        } catch (error) {
          setMessage(errorText(error));
        }
      }, EVERY_MS);
    }, () => setMessage(t("cameraUnavailable")));
    return () => {
      stopped = true;
      if (timer) clearInterval(timer);
      stream?.getTracks().forEach((track) => track.stop());
    };
  }, []);

  return createPortal(
    <dialog ref={dialog} className="camera" onClose={onClose} aria-labelledby="camera-title">
      <div className="dialog-head">
        <h2 id="camera-title">{title}</h2>
        <button type="button" onClick={() => dialog.current?.close()}>{t("close")}</button>
      </div>
      <video ref={video} muted playsInline />
      <p role="status">{message}</p>
    </dialog>,
    document.body,
  );
}
