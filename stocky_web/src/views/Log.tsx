import { useEffect, useState } from "react";
import type { LogEntry, Page } from "../api/types";
import { errorText, useGet } from "../hooks";
import { formatTime, t } from "../i18n";

// The log lives in Stocky's memory and raises no change events: while this
// page is open it asks again every two seconds.
const LIVE_MS = 2000;

export function Log() {
  const [severity, setSeverity] = useState("");
  const [typed, setTyped] = useState("");
  const [search, setSearch] = useState("");
  useEffect(() => {
    const timer = setTimeout(() => setSearch(typed.trim()), 200);
    return () => clearTimeout(timer);
  }, [typed]);
  const query = new URLSearchParams({ limit: "200" });
  if (severity) query.set("severity", severity);
  if (search) query.set("search", search);
  const log = useGet<Page<LogEntry>>(["log", severity, search], `/log?${query}`, { refetchInterval: LIVE_MS });
  return (
    <section>
      <h1>{t("navLog")}</h1>
      <div className="actions">
        <label>{t("severity")}
          <select value={severity} onChange={(e) => setSeverity(e.target.value)}>
            <option value="">{t("severityAll")}</option>
            <option value="INFO">{t("severityInfo")}</option>
            <option value="WARN">{t("severityWarn")}</option>
            <option value="ERROR">{t("severityError")}</option>
          </select>
        </label>
        <label>{t("search")}<input type="search" value={typed} onChange={(e) => setTyped(e.target.value)} /></label>
      </div>
      {log.error && <p className="error" role="alert">{errorText(log.error)}</p>}
      {log.data && !log.data.data.length && <p className="muted">{t("logEmpty")}</p>}
      <ul className="log" aria-live="off">
        {log.data?.data.map((entry) => (
          <li key={entry.id} className={`severity-${entry.severity.toLowerCase()}`}>
            <time dateTime={entry.timestamp}>{formatTime(entry.timestamp)}</time>
            <span className="tag">{entry.severity}</span> <span className="muted">{entry.source}</span>
            <div>{entry.message}</div>
          </li>
        ))}
      </ul>
    </section>
  );
}
