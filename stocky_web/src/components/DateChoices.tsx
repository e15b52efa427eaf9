import { useState } from "react";
import { QUICK_DATES, quickDate } from "../dates";
import { t } from "../i18n";

/** The quick best-before choices (3 days … 3 months) and "A date…", which
 * opens a date field. `onOpen` tells the owner a person is typing. */
export function DateChoices({ onPick, busy, onOpen }: {
  onPick: (day: string) => void; busy: boolean; onOpen?: () => void;
}) {
  const [asking, setAsking] = useState(false);
  const [typed, setTyped] = useState("");
  return (
    <div className="date-choices" role="group" aria-label={t("dateQuestion")}>
      <div className="date-quick">
        <span className="date-caption">{t("dateCaption")}</span>
        {QUICK_DATES.map(([payload, label]) => (
          <button key={payload} type="button" disabled={busy} onClick={() => onPick(quickDate(payload))}>{t(label)}</button>
        ))}
        {!asking && (
          <button type="button" onClick={() => {
            setAsking(true);
            onOpen?.();
          }}>{t("dateOther")}</button>
        )}
      </div>
      {asking && (
        <form className="inline" onSubmit={(e) => {
          e.preventDefault();
          if (typed) onPick(typed);
        }}>
          <label>{t("bestBefore")}<input type="date" required value={typed} onChange={(e) => setTyped(e.target.value)} /></label>
          <button type="submit" disabled={busy}>{t("setDate")}</button>
        </form>
      )}
    </div>
  );
}
