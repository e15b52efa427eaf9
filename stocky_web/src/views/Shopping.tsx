import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import type { Page, ShoppingItem } from "../api/types";
import { keepUnits, tripGroups } from "../dates";
import { useGet } from "../hooks";
import { formatTime, t, tn } from "../i18n";
import { loadShopping, saveShopping, type SavedItem, type SavedList } from "../offline";
import { outbox, type Kept, type RefusedTick } from "../outbox";
import { itemName } from "../scan";

type Tick = (item: SavedItem, inBasket: boolean) => void;

// How long a row just ticked stays in place, struck through, before it moves
// to the basket (or back up, unticked): time to see it took, and to untick.
const HOLD_MS = 3000;

function Entry({ item, checked, unsent, onTick }: { item: SavedItem; checked: boolean; unsent: boolean; onTick?: Tick }) {
  const name = itemName(item);
  const amount = <span className="to-buy">{t("toBuy", { count: item.to_buy ?? 1 })}</span>;
  const mark = unsent && <span className="unsent">{t("notSentYet")}</span>;
  const shown = <span className="trip-name">{keepUnits(name)}{mark}</span>;
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

/** The list as this phone has it: a tick Stocky has not had yet counts. */
function withTicks(items: SavedItem[], kept: Kept): SavedItem[] {
  const waiting = new Map(kept.ticks.map((tick) => [tick.itemId, tick.inBasket]));
  return items.map((item) => (waiting.has(item.id) ? { ...item, in_basket: waiting.get(item.id) } : item));
}

/** Items whose tick Stocky has not taken yet. (The mark fades in only after
 * a moment, so a tick that goes at once shows none.) */
function unsentIds(kept: Kept): Set<string> {
  return new Set(kept.ticks.map((tick) => tick.itemId));
}

/** What is left to get on top; what is in the basket below. `held` rows
 * (id: where they were) stay put for a moment after a tap, showing the tap. */
function Trip({ items, kept, onTick, held = new Map() }: {
  items: SavedItem[]; kept: Kept; onTick?: Tick; held?: ReadonlyMap<string, boolean>;
}) {
  if (!items.length) return <p className="muted">{t("shoppingEmpty")}</p>;
  const { toGet, inBasket } = tripGroups(withTicks(items, kept), held);
  const unsent = unsentIds(kept);
  const entry = (item: SavedItem) => (
    <Entry key={item.id} item={item} onTick={onTick} unsent={unsent.has(item.id)}
      checked={held.has(item.id) ? !held.get(item.id) : !!item.in_basket} />
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
  return { held, hold };
}

function useOutbox(): Kept {
  return useSyncExternalStore((listener) => outbox.subscribe(listener), () => outbox.read());
}

/** Send the ticks this phone keeps, in order; each one Stocky takes shows
 * at once in the list (no flicker back while the list is fetched again). */
export function useSendTicks(): () => Promise<void> {
  const queries = useQueryClient();
  return useCallback(() => outbox.send(
    (tick) => api<unknown>("PATCH", `/item/${tick.itemId}`, { in_basket: tick.inBasket }).then(() => undefined),
    (tick) => {
      queries.setQueriesData<Page<ShoppingItem>>({ queryKey: ["items", "shopping"] }, (page) => page && {
        ...page, data: page.data.map((item) => (item.id === tick.itemId ? { ...item, in_basket: tick.inBasket } : item)),
      });
      void queries.invalidateQueries({ queryKey: ["items"] });
    },
  ), [queries]);
}

const REFUSALS = { offList: "tickRefusedOffList", gone: "tickRefusedGone", other: "tickRefusedOther" } as const;

/** Ticks Stocky would not take, each said once, until the person has read them. */
function Refusals({ refused }: { refused: RefusedTick[] }) {
  if (!refused.length) return null;
  return (
    <div className="refusals" role="alert">
      <ul>
        {refused.map((r, i) => <li key={i}>{t(REFUSALS[r.reason] ?? "tickRefusedOther", { name: r.name, message: r.message })}</li>)}
      </ul>
      <button type="button" onClick={() => outbox.dismiss()}>{t("gotIt")}</button>
    </div>
  );
}

/** Offline since when, and how many ticks wait for the connection (the
 * row marks say which): one box, so the list stays near the top. */
function TripStatus({ since, kept }: { since: string | null; kept: Kept }) {
  const count = unsentIds(kept).size;
  if (!since && !count) return null;
  const waiting = count > 0 && <span className="waiting">{tn("ticksWaiting", count)}</span>;
  if (!since) return <p className="status trip-status waiting" role="status">{waiting}</p>;
  return (
    <p className="status offline trip-status" role="status">
      <span>{t("offlineSince", { time: formatTime(since) })}</span>
      {waiting}
    </p>
  );
}

/** The shopping list, big and plain for one hand in a shop: tick items into
 * the basket as they go in. The last list is kept, so it stays readable when
 * the signal goes, and a tick made then is kept on the phone and sent in
 * order when Stocky answers again. */
export function Shopping({ online, canTick }: { online: boolean; canTick: boolean }) {
  const list = useGet<Page<ShoppingItem>>(["items", "shopping", "", 500], "/item?stock=shopping&limit=500");
  const [saved, setSaved] = useState<SavedList | null>(() => loadShopping());
  const kept = useOutbox();
  const sendTicks = useSendTicks();
  const { held, hold } = useHeld();
  useEffect(() => {
    if (list.data && !list.isPlaceholderData) {
      saveShopping(list.data.data, canTick);
      setSaved(loadShopping());
      if (online) void sendTicks(); // Stocky answers: anything waiting can go
    }
  }, [list.data]);
  const stale = !online || list.isError;
  const tick: Tick = (item, inBasket) => {
    hold(item.id, !inBasket);
    outbox.tick({ itemId: item.id, name: itemName(item), inBasket });
    if (!stale) void sendTicks();
  };
  const onTick = canTick ? tick : undefined;
  return (
    <section className="shopping-page">
      <h1>{t("navShopping")}</h1>
      <p className="muted">{t("shoppingHint")}</p>
      <TripStatus since={stale && saved ? saved.savedAt : null} kept={kept} />
      <Refusals refused={kept.refused} />
      {list.data && !list.isError ? <Trip items={list.data.data} kept={kept} onTick={onTick} held={held} />
        : saved ? <Trip items={saved.items} kept={kept} onTick={onTick} held={held} /> : <p>{t("loading")}</p>}
    </section>
  );
}

/** Stocky cannot be reached at start: the kept list, ticks kept on the
 * phone, and a way to retry (tried by itself when the phone is online again). */
export function OfflineShopping({ onRetry }: { onRetry: () => void }) {
  const saved = loadShopping();
  const kept = useOutbox();
  const { held, hold } = useHeld();
  useEffect(() => {
    addEventListener("online", onRetry);
    return () => removeEventListener("online", onRetry);
  }, [onRetry]);
  const tick: Tick = (item, inBasket) => {
    hold(item.id, !inBasket);
    outbox.tick({ itemId: item.id, name: itemName(item), inBasket });
  };
  return (
    <main className="shopping-page">
      <p className="status offline" role="status">{t("offline")}</p>
      <button type="button" onClick={onRetry}>{t("retry")}</button>
      {saved && (
        <>
          <h1>{t("navShopping")}</h1>
          <TripStatus since={saved.savedAt} kept={kept} />
          <Trip items={saved.items} kept={kept} held={held} onTick={saved.canTick ? tick : undefined} />
        </>
      )}
    </main>
  );
}
