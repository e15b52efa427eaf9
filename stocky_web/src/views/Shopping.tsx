import { useEffect, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api, NetworkError } from "../api/client";
import type { Page, ShoppingItem } from "../api/types";
import { tripGroups } from "../dates";
import { errorText, useGet } from "../hooks";
import { formatTime, t } from "../i18n";
import { loadShopping, saveShopping, type SavedItem, type SavedList } from "../offline";
import { itemName } from "../scan";

type Tick = (item: SavedItem, inBasket: boolean) => void;

function Entry({ item, onTick }: { item: SavedItem; onTick?: Tick }) {
  const name = itemName(item);
  const amount = <span className="to-buy">{t("toBuy", { count: item.to_buy ?? 1 })}</span>;
  if (!onTick) return <li><span className="trip-name">{name}</span> {amount}</li>;
  return (
    <li>
      <label className="trip">
        <input type="checkbox" checked={!!item.in_basket} aria-label={t("tickItem", { name })}
          onChange={(e) => onTick(item, e.target.checked)} />
        <span className="trip-name">{name}</span> {amount}
      </label>
    </li>
  );
}

/** What is left to get on top; what is in the basket below. */
function Trip({ items, onTick }: { items: SavedItem[]; onTick?: Tick }) {
  if (!items.length) return <p className="muted">{t("shoppingEmpty")}</p>;
  const { toGet, inBasket } = tripGroups(items);
  return (
    <>
      <h2>{t("leftToGet")}</h2>
      {toGet.length ? (
        <ul className="shopping to-get">{toGet.map((item) => <Entry key={item.id} item={item} onTick={onTick} />)}</ul>
      ) : <p className="muted">{t("allInBasket")}</p>}
      {inBasket.length > 0 && (
        <>
          <h2>{t("inBasket")}</h2>
          <ul className="shopping in-basket">{inBasket.map((item) => <Entry key={item.id} item={item} onTick={onTick} />)}</ul>
        </>
      )}
    </>
  );
}

/** The shopping list, big and plain for one hand in a shop: tick items into
 * the basket as they go in. The last list is kept, so it stays readable when
 * the signal goes; a tick needs Stocky, and says so when it cannot reach it. */
export function Shopping({ online, canTick }: { online: boolean; canTick: boolean }) {
  const list = useGet<Page<ShoppingItem>>(["items", "shopping", "", 500], "/item?stock=shopping&limit=500");
  const [saved, setSaved] = useState<SavedList | null>(() => loadShopping());
  // A refused tick, naming its item; one refused for want of a connection
  // clears once Stocky answers again.
  const [error, setError] = useState<{ text: string; offline: boolean } | null>(null);
  const queries = useQueryClient();
  useEffect(() => {
    if (list.data && !list.isPlaceholderData) {
      saveShopping(list.data.data);
      setSaved(loadShopping());
    }
  }, [list.data]);
  const stale = !online || list.isError;
  useEffect(() => {
    if (!stale) setError((shown) => (shown?.offline ? null : shown));
  }, [stale]);
  const tick: Tick = (item, inBasket) => {
    const name = itemName(item);
    const offline = { text: t("tickOffline", { name }), offline: true };
    if (stale) return setError(offline);
    api("PATCH", `/item/${item.id}`, { in_basket: inBasket }).then(
      () => {
        setError(null);
        return queries.invalidateQueries({ queryKey: ["items"] });
      },
      (caught) => setError(caught instanceof NetworkError ? offline
        : { text: `${name}: ${errorText(caught)}`, offline: false }),
    );
  };
  const onTick = canTick ? tick : undefined;
  return (
    <section className="shopping-page">
      <h1>{t("navShopping")}</h1>
      <p className="muted">{t("shoppingHint")}</p>
      {stale && saved && <p className="status offline" role="status">{t("offlineSince", { time: formatTime(saved.savedAt) })}</p>}
      {error && <p className="error" role="alert">{error.text}</p>}
      {list.data && !list.isError ? <Trip items={list.data.data} onTick={onTick} />
        : saved ? <Trip items={saved.items} onTick={onTick} /> : <p>{t("loading")}</p>}
    </section>
  );
}

/** Stocky cannot be reached at start: the kept list, and a way to retry. */
export function OfflineShopping({ onRetry }: { onRetry: () => void }) {
  const saved = loadShopping();
  return (
    <main className="shopping-page">
      <p className="status offline" role="status">{t("offline")}</p>
      <button type="button" onClick={onRetry}>{t("retry")}</button>
      {saved && (
        <>
          <h1>{t("navShopping")}</h1>
          <p className="muted">{t("offlineSince", { time: formatTime(saved.savedAt) })}</p>
          <Trip items={saved.items} />
        </>
      )}
    </main>
  );
}
