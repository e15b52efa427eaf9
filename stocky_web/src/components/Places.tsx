import { useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import type { ItemDetail, Place } from "../api/types";
import { useAction, useGet } from "../hooks";
import { formatNumber, t } from "../i18n";
import { itemName } from "../scan";

function PlaceRow({ item, place, canChange }: { item: ItemDetail; place: Place; canChange: boolean }) {
  const action = useAction();
  const queries = useQueryClient();
  const name = itemName(item);
  const adjust = (delta: number) =>
    action.run(async () => {
      await api("POST", `/sku/${place.id}/adjust`, { delta });
      await queries.invalidateQueries({ queryKey: ["item", item.id] });
      void queries.invalidateQueries({ queryKey: ["items"] });
    });
  return (
    <li className="place">
      <span className="place-name">{place.location_name}</span>
      {canChange && (
        <button type="button" className="step" disabled={action.busy || place.quantity === 0}
          aria-label={t("removeOne", { name, location: place.location_name })} onClick={() => void adjust(-1)}>−</button>
      )}
      <span className="quantity" aria-live="polite">{formatNumber(place.quantity)}</span>
      {canChange && (
        <button type="button" className="step" disabled={action.busy}
          aria-label={t("addOne", { name, location: place.location_name })} onClick={() => void adjust(1)}>+</button>
      )}
      {action.error && <p className="error" role="alert">{action.error}</p>}
    </li>
  );
}

/** An item's places, each with − and + for people who may change stock. */
export function Places({ id, canChange }: { id: string; canChange: boolean }) {
  const item = useGet<ItemDetail>(["item", id], `/item/${id}`);
  if (!item.data) return <p>{t("loading")}</p>;
  if (!item.data.skus.length) return <p className="muted">{t("nowhere")}</p>;
  return (
    <ul className="places" aria-label={t("places", { name: itemName(item.data) })}>
      {item.data.skus.map((place) => (
        <PlaceRow key={place.id} item={item.data} place={place} canChange={canChange} />
      ))}
    </ul>
  );
}
