import { lazy, Suspense, useState } from "react";
import { t } from "../i18n";

// The camera and its decoder load only when the camera is opened.
const Camera = lazy(() => import("./Camera"));

/** The whole sentence in the phone's menu; one word in the desktop's row. */
function Label() {
  return (
    <>
      <span className="wide-only">{t("camera")}</span>
      <span className="narrow-only">{t("scanWithCamera")}</span>
    </>
  );
}

export function CameraButton() {
  const [open, setOpen] = useState(false);
  const [why, setWhy] = useState(false);
  if (!window.isSecureContext) {
    return (
      <>
        <button type="button" aria-label={t("scanWithCamera")} aria-expanded={why} onClick={() => setWhy(!why)}><Label /></button>
        {why && <p className="notice" role="status">{t("cameraNeedsHttps")}</p>}
      </>
    );
  }
  return (
    <>
      <button type="button" aria-label={t("scanWithCamera")} onClick={() => setOpen(true)}><Label /></button>
      {open && <Suspense fallback={<p>{t("loading")}</p>}><Camera onClose={() => setOpen(false)} /></Suspense>}
    </>
  );
}
