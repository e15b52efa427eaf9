import { useEffect, useRef, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api, NetworkError } from "../api/client";
import type { Page, ShoppingItem } from "../api/types";
import { keepUnits, tripGroups } from "../dates";
import { errorText, useGet } from "../hooks";
import { formatTime, t } from "../i18n";
import { loadShopping, saveShopping, type SavedItem, type SavedList } from "../offline";
import { itemName } from "../scan";

type Tick = (item: SavedItem, inBasket: boolean) => void;

// How long a row just ticked stays in place, struck through, before it moves
// to the basket (or back up, unticked): time to see it took, and to untick.
const HOLD_MS = 3000;

function Entry({ item, checked, onTick }: { item: SavedItem; checked: boolean; onTick?: Tick }) {
  const name = itemName(item);
  const amount = <span className="to-buy">{t("toBuy", { count: item.to_buy ?? 1 })}</span>;
  const shown = <span className="trip-name">{keepUnits(name)}</span>;
  if (!onTick) return <li className={checked ? "ticked" : undefined}>{shown} {amount}</li>;
  return (
    <li className={checked ? "ticked" : undefined}>
      <label className="trip">
        <input type="checkbox" checked={checked} aria-label={t("tickItem", { name })}
          onChange={(e) => onTick(item, e.target.checked)} />
        {shown} {amount}
      </label>
    </li>
  );
}

/** What is left to get on top; what is in the basket below. `held` rows
 * (id: where they were) stay put for a moment after a tap, showing the tap. */
function Trip({ items, onTick, held = new Map() }: { items: SavedItem[]; onTick?: Tick; held?: ReadonlyMap<string, boolean> }) {
  if (!items.length) return <p className="muted">{t("shoppingEmpty")}</p>;
  const { toGet, inBasket } = tripGroups(items, held);
  const entry = (item: SavedItem) => (
    <Entry key={item.id} item={item} onTick={onTick} checked={held.has(item.id) ? !held.get(item.id) : !!item.in_basket} />
  );
  return (
    <>
      <h2>{t("leftToGet")}</h2>
      {toGet.length ? <ul className="shopping to-get">{toGet.map(entry)}</ul> : <p className="muted">{t("allInBasket")}</p>}
      {inBasket.length > 0 && (
        <>
          <h2>{t("inBasket")}</h2>
          <ul className="shopping in-basket">{inBasket.map(entry)}</ul>
        </>
      )}
    </>
  );
}

/** Rows just tapped, kept in place for HOLD_MS: id → in the basket before the tap. */
function useHeld() {
  const [held, setHeld] = useState<ReadonlyMap<string, boolean>>(new Map());
  const timers = useRef(new Map<string, ReturnType<typeof setTimeout>>());
  useEffect(() => () => timers.current.forEach(clearTimeout), []);
  const change = (id: string, was: boolean | null) => {
    clearTimeout(timers.current.get(id));
    setHeld((now) => {
      const next = new Map(now);
      if (was === null) next.delete(id);
      else if (!next.has(id)) next.set(id, was);
      return next;
    });
  };
  const hold = (id: string, was: boolean) => {
    change(id, was);
    timers.current.set(id, setTimeout(() => change(id, null), HOLD_MS));
  };
  return { held, hold, release: (id: string) => change(id, null) };
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
  const { held, hold, release } = useHeld();
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
    hold(item.id, !inBasket);
    api("PATCH", `/item/${item.id}`, { in_basket: inBasket }).then(
      () => {
        setError(null);
        return queries.invalidateQueries({ queryKey: ["items"] });
      },
      (caught) => {
        release(item.id);
        setError(caught instanceof NetworkError ? offline : { text: `${name}: ${errorText(caught)}`, offline: false });
      },
    );
  };
  const onTick = canTick ? tick : undefined;
  return (
    <section className="shopping-page">
      <h1>{t("navShopping")}</h1>
      <p className="muted">{t("shoppingHint")}</p>
      {stale && saved && <p className="status offline" role="status">{t("offlineSince", { time: formatTime(saved.savedAt) })}</p>}
      {error && <p className="error" role="alert">{error.text}</p>}
      {list.data && !list.isError ? <Trip items={list.data.data} onTick={onTick} held={held} />
        : saved ? <Trip items={saved.items} onTick={onTick} held={held} /> : <p>{t("loading")}</p>}
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
