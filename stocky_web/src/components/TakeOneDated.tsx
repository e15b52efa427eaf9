import { api } from "../api/client";
import type { Adjusted } from "../api/types";
import { useAction } from "../hooks";
import { t } from "../i18n";
import { useTapped } from "./Banner";

/** The units of one best-before date at one place. */
export interface DatedUnits {
  itemId: string;
  item: string;
  skuId: string;
  locationId: string;
  location: string;
  bestBefore: string;
  date: string;
}

/** A − that takes one unit of exactly that date (the item page's date rows,
 * Use soon). A − that empties the lot takes its row away: the banner says
 * what went, with its Undo. */
export function TakeOneDated({ units }: { units: DatedUnits }) {
  const action = useAction();
  const tapped = useTapped();
  return (
    <>
      <button type="button" className="step" disabled={action.busy}
        aria-label={t("removeFromLot", { name: units.item, date: units.date, location: units.location })}
        onClick={() => void action.run(async () => {
          const after = await api<Adjusted>("POST", `/sku/${units.skuId}/adjust`, { delta: -1, best_before: units.bestBefore });
          await tapped({ itemId: units.itemId, item: units.item, skuId: units.skuId, locationId: units.locationId,
            location: units.location, delta: -1, quantity: after.quantity, changeId: after.change_id ?? null,
            bestBefore: units.bestBefore });
        })}>−</button>
      {action.error && <p className="error" role="alert">{action.error}</p>}
    </>
  );
}
