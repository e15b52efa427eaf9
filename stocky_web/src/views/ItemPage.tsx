import { useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useLocation } from "wouter";
import { api, ApiError } from "../api/client";
import type { ItemDetail, Location, Me, Page, StockChange, StorageType } from "../api/types";
import { ConfirmButton } from "../components/Confirm";
import { Places } from "../components/Places";
import { StorageSelect } from "../components/Storage";
import { errorText, useAction, useGet } from "../hooks";
import { formatAgo, formatNumber, formatTime, t } from "../i18n";
import { itemName } from "../scan";
import { canChange } from "./Inventory";
import { NotFound } from "./NotFound";

function EditItem({ item }: { item: ItemDetail }) {
  const [name, setName] = useState(item.name ?? "");
  const [description, setDescription] = useState(item.description ?? "");
  const [upc, setUpc] = useState(item.upc ?? "");
  const [storage, setStorage] = useState(item.storage_type ?? "");
  const action = useAction();
  const queries = useQueryClient();
  function save(event: FormEvent) {
    event.preventDefault();
    void action.run(async () => {
      await api("PATCH", `/item/${item.id}`, {
        name: name.trim() || null, description: description.trim() || null, upc: upc.trim() || null,
        storage_type: (storage || null) as StorageType,
      });
      await queries.invalidateQueries({ queryKey: ["item", item.id] });
    });
  }
  return (
    <form className="edit" onSubmit={save}>
      <label>{t("name")}<input value={name} onChange={(e) => setName(e.target.value)} /></label>
      <label>{t("description")}<input value={description} onChange={(e) => setDescription(e.target.value)} /></label>
      <label>{t("barcode")}<input value={upc} inputMode="numeric" onChange={(e) => setUpc(e.target.value)} /></label>
      <StorageSelect value={storage} onChange={setStorage} />
      {action.error && <p className="error" role="alert">{action.error}</p>}
      <button type="submit" className="primary" disabled={action.busy}>{t("save")}</button>
    </form>
  );
}

function AddPlace({ item }: { item: ItemDetail }) {
  const locations = useGet<Page<Location>>(["locations"], "/location");
  const [target, setTarget] = useState("");
  const action = useAction();
  const queries = useQueryClient();
  const free = (locations.data?.data ?? []).filter((l) => !item.skus.some((s) => s.location_id === l.id));
  if (!free.length) return null;
  return (
    <form className="inline" onSubmit={(e) => {
      e.preventDefault();
      void action.run(async () => {
        await api("POST", "/sku", { item_id: item.id, location_id: target || free[0].id, quantity: 1 });
        await queries.invalidateQueries({ queryKey: ["item", item.id] });
      });
    }}>
      <label>{t("putInto")}
        <select value={target || free[0].id} onChange={(e) => setTarget(e.target.value)}>
          {free.map((l) => <option key={l.id} value={l.id}>{l.name}</option>)}
        </select>
      </label>
      <button type="submit" disabled={action.busy}>{t("addPlace")}</button>
      {action.error && <p className="error" role="alert">{action.error}</p>}
    </form>
  );
}

export function ItemPage({ id, me }: { id: string; me: Me }) {
  const item = useGet<ItemDetail>(["item", id], `/item/${id}`, { placeholderData: undefined });
  const history = useGet<Page<StockChange>>(["item", id, "history"], `/item/${id}/history?limit=50`);
  const remove = useAction();
  const [, navigate] = useLocation();
  if (item.error instanceof ApiError && (item.error.status === 404 || item.error.status === 422)) {
    return <NotFound message="itemNotFound" />;
  }
  if (item.error) return <p className="error" role="alert">{errorText(item.error)}</p>;
  if (!item.data) return <p>{t("loading")}</p>;
  const data = item.data;
  return (
    <section>
      <h1>{itemName(data)}</h1>
      <p className="big">{t("total", { count: data.total_quantity })}</p>
      {data.lookup_status === "pending" && <p className="muted">{t("lookupPending")}</p>}
      <Places id={id} canChange={canChange(me)} />
      {canChange(me) && <AddPlace item={data} />}
      {canChange(me) ? <EditItem key={data.updated_at} item={data} /> : (
        <dl>
          <dt>{t("barcode")}</dt><dd>{data.upc ?? "—"}</dd>
          <dt>{t("description")}</dt><dd>{data.description ?? "—"}</dd>
        </dl>
      )}
      <h2>{t("history")}</h2>
      {history.data?.data.length ? (
        <ul className="history">
          {history.data.data.map((change) => (
            <li key={change.id}>
              <time dateTime={change.timestamp} title={formatTime(change.timestamp)}>{formatAgo(change.timestamp)}</time>{" "}
              {change.location_name}: {change.delta > 0 ? "+" : "−"}{formatNumber(Math.abs(change.delta))} → {formatNumber(change.quantity_after)}
            </li>
          ))}
        </ul>
      ) : <p className="muted">{t("historyEmpty")}</p>}
      {me.role === "Admin" && (
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
