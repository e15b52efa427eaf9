import { useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import type { Location, Me, Page, ScannerState } from "../api/types";
import { can } from "../can";
import { errorText, useAction, useGet } from "../hooks";
import { formatAgo, t } from "../i18n";
import { uiId } from "../uiId";

function ScannerEntry({ scanner, locations, editable }: { scanner: ScannerState; locations: Location[]; editable: boolean }) {
  const action = useAction();
  const queries = useQueryClient();
  const set = (change: Record<string, string | null>) =>
    action.run(async () => {
      await api("PUT", `/scanner/${scanner.id}/state`, change);
      await queries.invalidateQueries({ queryKey: ["scanners"] });
    });
  return (
    <li className="scanner">
      <div className="location-head">
        <strong>{scanner.username}</strong>
        <span className="muted">
          {scanner.last_scan_timestamp ? t("lastScan", { time: formatAgo(scanner.last_scan_timestamp) }) : t("neverScanned")}
          {scanner.associated_ui_id === uiId() && ` · ${t("linkedHere")}`}
        </span>
      </div>
      <div className="actions">
        <label>{t("scannerMode")}
          <select value={scanner.current_mode} disabled={!editable || action.busy}
            onChange={(e) => void set({ current_mode: e.target.value })}>
            <option value="add">{t("modeAdd")}</option>
            <option value="remove">{t("modeRemove")}</option>
          </select>
        </label>
        <label>{t("scannerLocation")}
          <select value={scanner.current_location_id ?? ""} disabled={!editable || action.busy}
            onChange={(e) => void set({ current_location_id: e.target.value || null })}>
            <option value="">{t("noLocation")}</option>
            {locations.map((l) => <option key={l.id} value={l.id}>{l.name}</option>)}
          </select>
        </label>
      </div>
      {action.error && <p className="error" role="alert">{action.error}</p>}
    </li>
  );
}

export function Scanners({ me }: { me: Me }) {
  const scanners = useGet<Page<ScannerState>>(["scanners"], "/scanner/status");
  const locations = useGet<Page<Location>>(["locations"], "/location");
  return (
    <section>
      <h1>{t("navScanners")}</h1>
      {scanners.error && <p className="error" role="alert">{errorText(scanners.error)}</p>}
      {scanners.data && !scanners.data.data.length && <p className="muted">{t("noScanners")}</p>}
      <ul className="scanners">
        {scanners.data?.data.map((scanner) => (
          <ScannerEntry key={scanner.id} scanner={scanner} locations={locations.data?.data ?? []} editable={can(me, "scanner.set_state")} />
        ))}
      </ul>
    </section>
  );
}
