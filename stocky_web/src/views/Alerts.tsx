import { useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import type { Alert, Me, Page } from "../api/types";
import { can } from "../can";
import { errorText, useAction, useGet } from "../hooks";
import { formatTime, t } from "../i18n";

export function Alerts({ me }: { me: Me }) {
  const alerts = useGet<Page<Alert>>(["alerts", "open"], "/alert?acknowledged=false");
  const action = useAction();
  const queries = useQueryClient();
  const run = (method: string, path: string, body?: unknown) =>
    action.run(async () => {
      await api(method, path, body);
      await queries.invalidateQueries({ queryKey: ["alerts"] });
    });
  const open = alerts.data?.data ?? [];
  return (
    <section>
      <h1>{t("navAlerts")}</h1>
      {alerts.error && <p className="error" role="alert">{errorText(alerts.error)}</p>}
      {action.error && <p className="error" role="alert">{action.error}</p>}
      {alerts.data && !open.length && <p className="muted">{t("noAlerts")}</p>}
      {can(me, "inventory.change") && open.length > 1 && (
        <button type="button" onClick={() => void run("POST", "/alert/acknowledge", {})}>{t("acknowledgeAll")}</button>
      )}
      <ul className="alerts">
        {open.map((alert) => (
          <li key={alert.id} className={`alert-${alert.severity.toLowerCase()}`}>
            <div><span className="tag">{alert.severity}</span> <time dateTime={alert.timestamp}>{formatTime(alert.timestamp)}</time></div>
            <p>{alert.message}</p>
            {can(me, "inventory.change") && (
              <button type="button" onClick={() => void run("PATCH", `/alert/${alert.id}`, { is_acknowledged: true })}>
                {t("acknowledge")}
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
