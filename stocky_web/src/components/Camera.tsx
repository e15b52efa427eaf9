import { useEffect, useRef, useState } from "react";
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
const EVERY_MS = 250;
const SAME_CODE_PAUSE_MS = 2500;

/** Scans through the camera as the signed-in person: each code read goes to
 * POST /scanner/scan, exactly like a scanner's. */
export default function Camera({ onClose }: { onClose: () => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const dialog = useRef<HTMLDialogElement>(null);
  const [message, setMessage] = useState<string>(t("cameraHint"));

  useEffect(() => {
    dialog.current?.showModal?.();
    if (!window.BarcodeDetector || !navigator.mediaDevices?.getUserMedia) {
      setMessage(t("cameraUnavailable"));
      return;
    }
    const detector = new window.BarcodeDetector({ formats: FORMATS });
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
        if (!video.current || video.current.readyState < 2) return;
        const [found] = await detector.detect(video.current).catch(() => []);
        if (!found || (found.rawValue === last.code && Date.now() - last.at < SAME_CODE_PAUSE_MS)) return;
        last = { code: found.rawValue, at: Date.now() };
        try {
          const result = await api<Omit<ScanMessage, "ok" | "action">>("POST", "/scanner/scan", { msg: found.rawValue });
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

  return (
    <dialog ref={dialog} className="camera" onClose={onClose} aria-label={t("scanWithCamera")}>
      <video ref={video} muted playsInline />
      <p role="status">{message}</p>
      <button type="button" onClick={() => dialog.current?.close()}>{t("close")}</button>
    </dialog>
  );
}
