import { createContext, useContext } from "react";
import { api, ApiError } from "../api/client";
import type { ItemDetail, Page, StockChange } from "../api/types";
import { formatDay } from "../dates";
import { useAction } from "../hooks";
import { t } from "../i18n";
import { tapBanner, type Banner, type JustAdded, type Tapped } from "../scan";
import { findChange, undoneText } from "../undo";
import { DateChoices } from "./DateChoices";

/** Views show a banner (a + tap's "Added …") through this. */
export const ShowBanner = createContext<(banner: Banner) => void>(() => undefined);

export function useShowBanner(): (banner: Banner) => void {
  return useContext(ShowBanner);
}

/** The journalled change of a tap whose answer did not name it (putting an
 * item in a new place answers with the place only): found in the item's
 * newest history. */
async function changeOf(tap: Tapped): Promise<string | null> {
  if (tap.changeId) return tap.changeId;
  const history = await api<Page<StockChange>>("GET", `/item/${tap.itemId}/history?limit=5`);
  return findChange(history.data, { location_name: tap.location, delta: tap.delta, quantity_after: tap.quantity });
}

/** Every stock change made by a tap shows the same banner as a scan, with
 * its Undo: call the returned function with what the tap changed. */
export function useTapped(): (tap: Tapped) => Promise<void> {
  const showBanner = useShowBanner();
  return async (tap) => {
    const changeId = await changeOf(tap).catch(() => null);
    showBanner(tapBanner({ ...tap, changeId }));
  };
}

/** The place's SKU: a + tap knows it; a scan names the item and location. */
async function skuOf(added: JustAdded): Promise<string> {
  if (added.skuId) return added.skuId;
  const item = await api<ItemDetail>("GET", `/item/${added.itemId}`);
  const place = item.skus.find((s) => s.location_id === added.locationId);
  if (!place) throw new ApiError(409, "conflict", t("nowhere"));
  return place.id;
}

/** A result over the page; after an undated add it offers best-before dates
 * for that unit (POST /sku/{id}/date: the count stays, the unit gets a date),
 * and after a stock change an Undo (its refusal stays on the banner). */
export function BannerView({ banner, canChange, onChange, onHold }: {
  banner: Banner; canChange: boolean; onChange: (banner: Banner | null) => void; onHold: () => void;
}) {
  const action = useAction();
  const dating = canChange ? banner.dating : undefined;
  const undo = canChange ? banner.undo : undefined;
  const undoIt = () => {
    if (!undo) return;
    onHold();
    void action.run(async () => {
      const inverse = await api<StockChange>("POST", `/stock-change/${undo.changeId}/undo`);
      onChange({ text: undoneText(undo.item, inverse), tone: "info" });
    });
  };
  const pick = (day: string) => {
    onHold();
    void action.run(async () => {
      await api("POST", `/sku/${await skuOf(dating as JustAdded)}/date`, { best_before: day });
      onChange({ text: `${banner.text} · ${t("bestBefore")} ${formatDay(day)}`, tone: "good" });
    });
  };
  return (
    <div className={`banner ${banner.tone}`} role="status" aria-live="polite">
      <p onClick={() => onChange(null)}>{banner.text}</p>
      {(dating || undo) && (
        <div className="banner-actions">
          {undo && <button type="button" className="undo" disabled={action.busy} onClick={undoIt}>{t("undo")}</button>}
          {dating && <DateChoices busy={action.busy} onPick={pick} onOpen={onHold} />}
        </div>
      )}
      {action.error && <p className="error banner-error" role="alert">{action.error}</p>}
    </div>
  );
}
