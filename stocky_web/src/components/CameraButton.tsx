import { lazy, Suspense, useState } from "react";
import { t } from "../i18n";

// The camera and its decoder load only when the camera is opened.
const Camera = lazy(() => import("./Camera"));

export function CameraButton() {
  const [open, setOpen] = useState(false);
  const [why, setWhy] = useState(false);
  if (!window.isSecureContext) {
    return (
      <>
        <button type="button" aria-expanded={why} onClick={() => setWhy(!why)}>{t("scanWithCamera")}</button>
        {why && <p className="notice" role="status">{t("cameraNeedsHttps")}</p>}
      </>
    );
  }
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>{t("scanWithCamera")}</button>
      {open && <Suspense fallback={<p>{t("loading")}</p>}><Camera onClose={() => setOpen(false)} /></Suspense>}
    </>
  );
}
