import { useState } from "react";
import { Link } from "wouter";
import type { Me, Page, UseSoonLot } from "../api/types";
import { can } from "../can";
import { TakeOneDated } from "../components/TakeOneDated";
import { daysLeftText, formatDay } from "../dates";
import { errorText, useGet } from "../hooks";
import { t } from "../i18n";
import { itemName } from "../scan";

const WINDOWS = [3, 7, 14, 30];

function LotRow({ lot, me }: { lot: UseSoonLot; me: Me }) {
  const name = itemName({ name: lot.item_name, upc: null });
  const date = formatDay(lot.best_before);
  return (
    <li className={lot.days_left < 0 ? "lot expired" : "lot"}>
      <div className="lot-text">
        <Link href={`/item/${lot.item_id}`} className="item-name">{name}</Link>
        <span className="days-left">{daysLeftText(lot.days_left)}</span>
        <span className="muted">
          <time dateTime={lot.best_before}>{date}</time> · {t("lotWhere", { quantity: lot.quantity, location: lot.location_name })}
        </span>
      </div>
      {can(me, "inventory.change") && (
        <TakeOneDated units={{ itemId: lot.item_id, item: name, skuId: lot.sku_id, locationId: lot.location_id,
          location: lot.location_name, bestBefore: lot.best_before, date }} />
      )}
    </li>
  );
}

/** Dated stock due within a few days, what has expired first; live. */
export function UseSoon({ me }: { me: Me }) {
  const [within, setWithin] = useState(7);
  const lots = useGet<Page<UseSoonLot>>(["lots", within], `/lot?expiring_within_days=${within}&limit=500`);
  return (
    <section>
      <h1>{t("navUseSoon")}</h1>
      <p className="muted">{t("useSoonHint")}</p>
      <div className="filters windows" role="group" aria-label={t("withinDays")}>
        {WINDOWS.map((days) => (
          <button key={days} type="button" aria-pressed={within === days} onClick={() => setWithin(days)}>
            {t("daysChoice", { count: days })}
          </button>
        ))}
      </div>
      {lots.error && <p className="error" role="alert">{errorText(lots.error)}</p>}
      {lots.data && (lots.data.data.length ? (
        <ul className="use-soon">{lots.data.data.map((lot) => <LotRow key={lot.id} lot={lot} me={me} />)}</ul>
      ) : <p className="muted">{t("useSoonEmpty", { count: within })}</p>)}
      {!lots.data && !lots.error && <p>{t("loading")}</p>}
    </section>
  );
}
