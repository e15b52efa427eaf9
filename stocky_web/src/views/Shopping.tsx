import { useEffect, useState } from "react";
import type { Item, Page } from "../api/types";
import { useGet } from "../hooks";
import { formatTime, t } from "../i18n";
import { loadShopping, saveShopping, type SavedList } from "../offline";
import { itemName } from "../scan";

function List({ items }: { items: SavedList["items"] }) {
  if (!items.length) return <p className="muted">{t("shoppingEmpty")}</p>;
  return (
    <ul className="shopping">
      {items.map((item) => <li key={item.id}>{itemName(item)}</li>)}
    </ul>
  );
}

/** The shopping list, big and plain for one hand in a shop. The last list
 * is kept, so it stays readable when the signal goes. */
export function Shopping({ online }: { online: boolean }) {
  const list = useGet<Page<Item>>(["items", "zero", "", 500], "/item?stock=zero&limit=500");
  const [saved, setSaved] = useState<SavedList | null>(() => loadShopping());
  useEffect(() => {
    if (list.data && !list.isPlaceholderData) {
      saveShopping(list.data.data);
      setSaved(loadShopping());
    }
  }, [list.data]);
  const stale = !online || list.isError;
  return (
    <section className="shopping-page">
      <h1>{t("navShopping")}</h1>
      <p className="muted">{t("shoppingHint")}</p>
      {stale && saved && <p className="status offline" role="status">{t("offlineSince", { time: formatTime(saved.savedAt) })}</p>}
      {list.data && !list.isError ? <List items={list.data.data} /> : saved ? <List items={saved.items} /> : <p>{t("loading")}</p>}
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
          <List items={saved.items} />
        </>
      )}
    </main>
  );
}
