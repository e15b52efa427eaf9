import { useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useLocation } from "wouter";
import { api, ApiError } from "../api/client";
import type { Adjusted, ItemDetail, Location, Me, Page, Place, StockChange, StorageType } from "../api/types";
import { can } from "../can";
import { useTapped } from "../components/Banner";
import { ConfirmButton } from "../components/Confirm";
import { Places } from "../components/Places";
import { StorageSelect } from "../components/Storage";
import { errorText, useAction, useGet } from "../hooks";
import { journalDates, quickDate } from "../dates";
import { formatAgo, formatNumber, formatTime, t, type MessageKey } from "../i18n";
import { itemName } from "../scan";
import { historyMark, mayUndo, undoneIds } from "../undo";
import { NotFound } from "./NotFound";

/** The item's fields; `saved` says the last Save took (it outlives the
 * form, which starts afresh from what Stocky then answers). */
function EditItem({ item, saved, onSaved }: { item: ItemDetail; saved: boolean; onSaved: (saved: boolean) => void }) {
  const [name, setName] = useState(item.name ?? "");
  const [description, setDescription] = useState(item.description ?? "");
  const [upc, setUpc] = useState(item.upc ?? "");
  const [storage, setStorage] = useState(item.storage_type ?? "");
  const [minimum, setMinimum] = useState(String(item.min_quantity ?? 0));
  const action = useAction({
    name: t("name"), description: t("description"), upc: t("barcode"), storage_type: t("storageType"), min_quantity: t("keepAtLeast"),
  });
  const queries = useQueryClient();
  function save(event: FormEvent) {
    event.preventDefault();
    onSaved(false);
    void action.run(async () => {
      await api("PATCH", `/item/${item.id}`, {
        name: name.trim() || null, description: description.trim() || null, upc: upc.trim() || null,
        storage_type: (storage || null) as StorageType, min_quantity: Number(minimum) || 0,
      });
      onSaved(true);
      await queries.invalidateQueries({ queryKey: ["item", item.id] });
    });
  }
  return (
    <form className="edit" onSubmit={save} onChange={() => onSaved(false)}>
      <label>{t("name")}<input value={name} onChange={(e) => setName(e.target.value)} /></label>
      <label>{t("description")}<input value={description} onChange={(e) => setDescription(e.target.value)} /></label>
      <label>{t("barcode")}<input value={upc} inputMode="numeric" onChange={(e) => setUpc(e.target.value)} /></label>
      <StorageSelect value={storage} onChange={setStorage} />
      <label>{t("keepAtLeast")}
        <input type="number" min={0} step={1} inputMode="numeric" value={minimum} onChange={(e) => setMinimum(e.target.value)} />
        <span className="muted hint">{t("keepAtLeastHint")}</span>
      </label>
      {action.error && <p className="error" role="alert">{action.error}</p>}
      <div className="save-row">
        <button type="submit" className="primary" disabled={action.busy}>{t("save")}</button>
        {saved && <span className="saved" role="status">{t("saved")}</span>}
      </div>
    </form>
  );
}

/** Put one unit of the item in a place it is not kept yet. */
function AddPlace({ item }: { item: ItemDetail }) {
  const locations = useGet<Page<Location>>(["locations"], "/location");
  const [target, setTarget] = useState("");
  const action = useAction();
  const queries = useQueryClient();
  const tapped = useTapped();
  const free = (locations.data?.data ?? []).filter((l) => !item.skus.some((s) => s.location_id === l.id));
  if (!free.length) return null;
  const chosen = free.find((l) => l.id === target) ?? free[0];
  return (
    <form className="inline" onSubmit={(e) => {
      e.preventDefault();
      void action.run(async () => {
        const place = await api<Place>("POST", "/sku", { item_id: item.id, location_id: chosen.id, quantity: 1 });
        await tapped({ itemId: item.id, item: itemName(item), skuId: place.id, locationId: place.location_id,
          location: place.location_name, delta: 1, quantity: place.quantity, changeId: null });
        await queries.invalidateQueries({ queryKey: ["item", item.id] });
      });
    }}>
      <label>{t("putInto")}
        <select value={chosen.id} onChange={(e) => setTarget(e.target.value)}>
          {free.map((l) => <option key={l.id} value={l.id}>{l.name}</option>)}
        </select>
      </label>
      <button type="submit" disabled={action.busy}>{t("addPlace", { location: chosen.name })}</button>
      {action.error && <p className="error" role="alert">{action.error}</p>}
    </form>
  );
}

/** Add units that carry a best-before date to one of the item's places. */
function AddDated({ item }: { item: ItemDetail }) {
  const [place, setPlace] = useState("");
  const [count, setCount] = useState("1");
  const [day, setDay] = useState(() => quickDate("+1w"));
  const action = useAction();
  const tapped = useTapped();
  if (!item.skus.length) return null;
  const target = item.skus.find((s) => s.id === place) ?? item.skus[0];
  return (
    <form className="inline add-dated" onSubmit={(e) => {
      e.preventDefault();
      void action.run(async () => {
        const delta = Number(count);
        const after = await api<Adjusted>("POST", `/sku/${target.id}/adjust`, { delta, best_before: day });
        await tapped({ itemId: item.id, item: itemName(item), skuId: target.id, locationId: target.location_id,
          location: target.location_name, delta, quantity: after.quantity, changeId: after.change_id ?? null, bestBefore: day });
      });
    }}>
      <h2>{t("addDated")}</h2>
      <label>{t("scannerLocation")}
        <select value={target.id} onChange={(e) => setPlace(e.target.value)}>
          {item.skus.map((s) => <option key={s.id} value={s.id}>{s.location_name}</option>)}
        </select>
      </label>
      <label>{t("howMany")}
        <input type="number" min={1} step={1} inputMode="numeric" required value={count} onChange={(e) => setCount(e.target.value)} />
      </label>
      <label>{t("bestBefore")}<input type="date" required value={day} onChange={(e) => setDay(e.target.value)} /></label>
      <button type="submit" className="primary" disabled={action.busy}>{t("addDated")}</button>
      {action.error && <p className="error" role="alert">{action.error}</p>}
    </form>
  );
}

const SOURCES: Record<StockChange["source"], MessageKey> = { scan: "sourceScan", ui: "sourceUi", api: "sourceApi" };

/** One journal row: when, who and how; an undo and a change undone later are
 * marked, and a change neither may be undone. */
function HistoryRow({ change, mark, canUndo }: { change: StockChange; mark: "undo" | "undone" | null; canUndo: boolean }) {
  const action = useAction();
  const queries = useQueryClient();
  const what = `${change.location_name}: ${change.delta > 0 ? "+" : "−"}${formatNumber(Math.abs(change.delta))} → ${formatNumber(change.quantity_after)}`;
  const dates = journalDates(change.lots);
  const how = t(SOURCES[change.source] ?? "sourceApi");
  return (
    <li className={mark ? `change ${mark}` : "change"}>
      <div className="change-text">
        <span className="change-meta">
          <time dateTime={change.timestamp} title={formatTime(change.timestamp)}>{formatAgo(change.timestamp)}</time>
          {" · "}{change.username ?? t("someone")}{" · "}{how}
        </span>
        <span>
          <span className="change-what">{what}</span>
          {mark && <span className="tag">{t(mark === "undo" ? "markUndo" : "markUndone")}</span>}
        </span>
        {dates && <span className="muted change-dates">{t("bestBefore")} {dates}</span>}
      </div>
      {canUndo && (
        <ConfirmButton label={t("undo")} name={t("undoRow", { change: what })} question={t("confirmUndo", { change: what })}
          yes={t("yesUndo")} disabled={action.busy}
          onConfirm={() => void action.run(() => api("POST", `/stock-change/${change.id}/undo`).then(
            () => queries.invalidateQueries({ queryKey: ["item"] })))} />
      )}
      {action.error && <p className="error" role="alert">{action.error}</p>}
    </li>
  );
}

export function ItemPage({ id, me }: { id: string; me: Me }) {
  const item = useGet<ItemDetail>(["item", id], `/item/${id}`, { placeholderData: undefined });
  const history = useGet<Page<StockChange>>(["item", id, "history"], `/item/${id}/history?limit=50`);
  const remove = useAction();
  const [saved, setSaved] = useState(false);
  const [, navigate] = useLocation();
  if (item.error instanceof ApiError && (item.error.status === 404 || item.error.status === 422)) {
    return <NotFound message="itemNotFound" />;
  }
  if (item.error) return <p className="error" role="alert">{errorText(item.error)}</p>;
  if (!item.data) return <p>{t("loading")}</p>;
  const data = item.data;
  const changes = history.data?.data ?? [];
  const undone = undoneIds(changes);
  return (
    <section>
      <h1>{itemName(data)}</h1>
      <p className="big">{t("total", { count: data.total_quantity })}</p>
      {data.lookup_status === "pending" && <p className="muted">{t("lookupPending")}</p>}
      <Places id={id} canChange={can(me, "inventory.change")} />
      {can(me, "inventory.change") && <AddPlace item={data} />}
      {can(me, "inventory.change") && <AddDated item={data} />}
      {can(me, "inventory.change") ? <EditItem key={data.updated_at} item={data} saved={saved} onSaved={setSaved} /> : (
        <dl>
          <dt>{t("barcode")}</dt><dd>{data.upc ?? "—"}</dd>
          <dt>{t("description")}</dt><dd>{data.description ?? "—"}</dd>
          <dt>{t("keepAtLeast")}</dt><dd>{formatNumber(data.min_quantity ?? 0)}</dd>
        </dl>
      )}
      <h2>{t("history")}</h2>
      {changes.length ? (
        <ul className="history">
          {changes.map((change) => (
            <HistoryRow key={change.id} change={change} mark={historyMark(change, undone)}
              canUndo={can(me, "inventory.change") && mayUndo(change, undone)} />
          ))}
        </ul>
      ) : <p className="muted">{t("historyEmpty")}</p>}
      {can(me, "item.delete") && (
        <div className="actions">
          <ConfirmButton label={t("deleteItem")} question={t("confirmDeleteItem", { name: itemName(data) })}
            onConfirm={() => void remove.run(async () => {
              await api("DELETE", `/item/${id}`);
              navigate("/");
            })} />
          {remove.error && <p className="error" role="alert">{remove.error}</p>}
        </div>
      )}
    </section>
  );
}
