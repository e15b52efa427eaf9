import { useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import type { Location, Me, Page } from "../api/types";
import { can } from "../can";
import { ConfirmButton } from "../components/Confirm";
import { StorageSelect, storageName } from "../components/Storage";
import { errorText, useAction, useGet } from "../hooks";
import { t } from "../i18n";

function LocationEntry({ location, all, editable }: { location: Location; all: Location[]; editable: boolean }) {
  const others = all.filter((l) => l.id !== location.id);
  const [into, setInto] = useState("");
  const action = useAction();
  const queries = useQueryClient();
  const refresh = () => Promise.all([
    queries.invalidateQueries({ queryKey: ["locations"] }),
    queries.invalidateQueries({ queryKey: ["items"] }),
  ]);
  return (
    <li className="location">
      <div className="location-head">
        <strong>{location.name}</strong>
        <span className="muted">{storageName(location.storage_type)} · {t("itemsHere", { count: location.total_quantity })}</span>
      </div>
      {editable && (
        <div className="actions">
          {others.length > 0 && location.total_quantity > 0 && (
            <form className="inline" onSubmit={(e) => {
              e.preventDefault();
              void action.run(async () => {
                await api("POST", `/location/${location.id}/empty`, { into_location_id: into || others[0].id });
                await refresh();
              });
            }}>
              <label>{t("moveAllInto", { name: location.name })}
                <select value={into || others[0].id} onChange={(e) => setInto(e.target.value)}>
                  {others.map((l) => <option key={l.id} value={l.id}>{l.name}</option>)}
                </select>
              </label>
              <button type="submit" disabled={action.busy}>{t("moveAll")}</button>
            </form>
          )}
          <ConfirmButton label={t("deleteLocation")} name={t("deleteLocationNamed", { name: location.name })} question={t("confirmDeleteLocation", { name: location.name })}
            onConfirm={() => void action.run(async () => {
              await api("DELETE", `/location/${location.id}`);
              await refresh();
            })} />
        </div>
      )}
      {action.error && <p className="error" role="alert">{action.error}</p>}
    </li>
  );
}

function NewLocation() {
  const [name, setName] = useState("");
  const [storage, setStorage] = useState("");
  const action = useAction();
  const queries = useQueryClient();
  function submit(event: FormEvent) {
    event.preventDefault();
    void action.run(async () => {
      await api("POST", "/location", { name: name.trim(), storage_type: storage || null });
      setName("");
      await queries.invalidateQueries({ queryKey: ["locations"] });
    });
  }
  return (
    <form className="edit" onSubmit={submit} aria-label={t("newLocation")}>
      <h2>{t("newLocation")}</h2>
      <label>{t("name")}<input value={name} required onChange={(e) => setName(e.target.value)} /></label>
      <StorageSelect value={storage} onChange={setStorage} />
      {action.error && <p className="error" role="alert">{action.error}</p>}
      <button type="submit" className="primary" disabled={action.busy}>{t("addLocation")}</button>
    </form>
  );
}

export function Locations({ me }: { me: Me }) {
  const locations = useGet<Page<Location>>(["locations"], "/location");
  const all = locations.data?.data ?? [];
  return (
    <section>
      <h1>{t("navLocations")}</h1>
      {locations.error && <p className="error" role="alert">{errorText(locations.error)}</p>}
      <ul className="locations">
        {all.map((location) => <LocationEntry key={location.id} location={location} all={all} editable={can(me, "inventory.change")} />)}
      </ul>
      {can(me, "inventory.change") && <NewLocation />}
    </section>
  );
}
