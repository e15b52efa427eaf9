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

/** Opens the camera: to scan as a scanner does (the menu's), or, given
 * `onCode`, to read one barcode into a form. Over plain HTTP browsers allow
 * no camera: the button says so and where the secure address is explained. */
export function CameraButton({ onCode }: { onCode?: (code: string) => void }) {
  const [open, setOpen] = useState(false);
  const [why, setWhy] = useState(false);
  const name = t(onCode ? "scanBarcode" : "scanWithCamera");
  const label = onCode ? name : <Label />;
  if (!window.isSecureContext) {
    return (
      <>
        <button type="button" aria-label={name} aria-expanded={why} onClick={() => setWhy(!why)}>{label}</button>
        {why && (
          <p className="notice" role="status">
            {t("cameraNeedsHttps")} <a href="/connect">{t("httpsNoticeLink")}</a>
          </p>
        )}
      </>
    );
  }
  return (
    <>
      <button type="button" aria-label={name} onClick={() => setOpen(true)}>{label}</button>
      {open && <Suspense fallback={<p>{t("loading")}</p>}><Camera onClose={() => setOpen(false)} onCode={onCode} /></Suspense>}
    </>
  );
}
