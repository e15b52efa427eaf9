import { useState } from "react";
import { t } from "../i18n";

const SEEN = "stocky.https_notice_seen";
// This machine itself: browsers treat it as secure, camera and all.
const THIS_MACHINE = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$|\.localhost$/;

/** Opened over plain HTTP from another machine (a phone on the home network). */
export function overPlainHttp(place: Pick<Location, "protocol" | "hostname"> = location): boolean {
  return place.protocol === "http:" && !THIS_MACHINE.test(place.hostname);
}

/** Said once over plain HTTP, until dismissed: what the secure address
 * gives, and the page that sets it up. */
export function HttpsNotice() {
  const [shown, setShown] = useState(() => overPlainHttp() && !localStorage.getItem(SEEN));
  if (!shown) return null;
  const dismiss = () => {
    try {
      localStorage.setItem(SEEN, "1");
    } catch {
      // not remembered: said again next time
    }
    setShown(false);
  };
  return (
    <aside className="https-notice" aria-label={t("httpsNoticeLink")}>
      <p>{t("httpsNotice")} <a href="/connect">{t("httpsNoticeLink")}</a></p>
      <button type="button" onClick={dismiss}>{t("gotIt")}</button>
    </aside>
  );
}
