import { useEffect, useRef } from "react";
import { t } from "../i18n";
import { uiId } from "../uiId";
import { QrImage } from "./QrImage";

/** This screen's associate_ui card: a scanner that reads it sends its
 * results and view cards here. */
export function LinkScanner({ onClose }: { onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    dialog.current?.showModal?.();
  }, []);
  return (
    <dialog ref={dialog} className="link-scanner" aria-labelledby="link-title" onClose={onClose}>
      <div className="dialog-head">
        <h2 id="link-title">{t("linkScanner")}</h2>
        <button type="button" onClick={() => dialog.current?.close()}>{t("close")}</button>
      </div>
      <p>{t("linkScannerHint")}</p>
      <QrImage path="/qr/command?format=svg" body={{ command: "associate_ui", payload: uiId() }} alt={t("linkScanner")} />
    </dialog>
  );
}
