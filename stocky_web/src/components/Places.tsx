import { useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import type { Adjusted, ItemDetail, Lot, Place } from "../api/types";
import { formatDay } from "../dates";
import { useAction, useGet } from "../hooks";
import { formatNumber, t } from "../i18n";
import { itemName } from "../scan";
import { useTapped } from "./Banner";
import { TakeOneDated } from "./TakeOneDated";

function LotRow({ item, place, lot, canChange }: { item: ItemDetail; place: Place; lot: Lot; canChange: boolean }) {
  const date = formatDay(lot.best_before);
  return (
    <li className="lot">
      <time dateTime={lot.best_before}>{date}</time>
      <span className="quantity">{formatNumber(lot.quantity)}</span>
      {canChange && (
        <TakeOneDated units={{ itemId: item.id, item: itemName(item), skuId: place.id, locationId: place.location_id,
          location: place.location_name, bestBefore: lot.best_before, date }} />
      )}
    </li>
  );
}

/** A place's dated units, one row a date, and how many have none. */
function Lots({ item, place, canChange }: { item: ItemDetail; place: Place; canChange: boolean }) {
  const lots = place.lots ?? [];
  if (!lots.length) return null;
  const undated = place.quantity - lots.reduce((sum, lot) => sum + lot.quantity, 0);
  return (
    <ul className="lots" aria-label={t("lotsOf", { location: place.location_name })}>
      {lots.map((lot) => <LotRow key={lot.id} item={item} place={place} lot={lot} canChange={canChange} />)}
      {undated > 0 && <li className="lot muted">{t("undated", { count: undated })}</li>}
    </ul>
  );
}

function PlaceRow({ item, place, canChange }: { item: ItemDetail; place: Place; canChange: boolean }) {
  const action = useAction();
  const queries = useQueryClient();
  const tapped = useTapped();
  const name = itemName(item);
  const adjust = (delta: number) =>
    action.run(async () => {
      const after = await api<Adjusted>("POST", `/sku/${place.id}/adjust`, { delta });
      await tapped({ itemId: item.id, item: name, skuId: place.id, locationId: place.location_id, location: place.location_name,
        delta, quantity: after.quantity, changeId: after.change_id ?? null });
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
      <Lots item={item} place={place} canChange={canChange} />
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
