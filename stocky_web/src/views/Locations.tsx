import { useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import type { Emptied, Location, Me, Page } from "../api/types";
import { can } from "../can";
import { useShowBanner } from "../components/Banner";
import { ConfirmButton } from "../components/Confirm";
import { StorageSelect, storageName } from "../components/Storage";
import { errorText, useAction, useGet } from "../hooks";
import { t, tn } from "../i18n";

/** "Move everything" asks first, in place: into which place, naming how
 * many units go; the answer shows in the banner. */
function MoveEverything({ location, others, onDone }: { location: Location; others: Location[]; onDone: () => Promise<unknown> }) {
  const [into, setInto] = useState("");
  const action = useAction();
  const showBanner = useShowBanner();
  const target = others.find((l) => l.id === into) ?? others[0];
  const question = tn("moveAllQuestion", location.total_quantity, { from: location.name, into: target.name });
  const move = () => action.run(async () => {
    const moved = await api<Emptied>("POST", `/location/${location.id}/empty`, { into_location_id: target.id });
    const [from, to] = [moved.from_location_name, moved.into_location_name];
    const undo = moved.change_id ? { undo: { changeId: moved.change_id, item: from, undone: t("moveUndone", { from }) } } : {};
    showBanner({ text: tn("movedAll", moved.moved, { from, into: to }), tone: "good", ...undo });
    await onDone();
  });
  return (
    <div className="move-ask" role="group" aria-label={question}>
      <label>{t("moveInto")}
        <select value={target.id} onChange={(e) => setInto(e.target.value)}>
          {others.map((l) => <option key={l.id} value={l.id}>{l.name}</option>)}
        </select>
      </label>
      <p className="question">{question}</p>
      <div className="actions">
        <button type="button" className="primary" disabled={action.busy} onClick={() => void move()}>{t("yesMove")}</button>
        <button type="button" autoFocus onClick={() => void onDone()}>{t("cancel")}</button>
      </div>
      {action.error && <p className="error" role="alert">{action.error}</p>}
    </div>
  );
}

function LocationEntry({ location, all, editable }: { location: Location; all: Location[]; editable: boolean }) {
  const others = all.filter((l) => l.id !== location.id);
  const [moving, setMoving] = useState(false);
  const action = useAction();
  const queries = useQueryClient();
  const refresh = () => Promise.all([
    queries.invalidateQueries({ queryKey: ["locations"] }),
    queries.invalidateQueries({ queryKey: ["items"] }),
  ]);
  const canMove = others.length > 0 && location.total_quantity > 0;
  return (
    <li className="location">
      <div className="location-head">
        <strong>{location.name}</strong>
        <span className="muted">{storageName(location.storage_type)} · {tn("unitsHere", location.total_quantity)}</span>
      </div>
      {editable && (
        <div className="actions">
          {canMove && <button type="button" aria-expanded={moving} onClick={() => setMoving(!moving)}>{t("moveAll")}</button>}
          <ConfirmButton label={t("deleteLocation")} name={t("deleteLocationNamed", { name: location.name })} question={t("confirmDeleteLocation", { name: location.name })}
            onConfirm={() => void action.run(async () => {
              await api("DELETE", `/location/${location.id}`);
              await refresh();
            })} />
        </div>
      )}
      {editable && canMove && moving && (
        <MoveEverything location={location} others={others} onDone={() => {
          setMoving(false);
          return refresh();
        }} />
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
