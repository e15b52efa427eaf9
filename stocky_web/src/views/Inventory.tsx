import { useEffect, useState } from "react";
import { Link, useSearch, useLocation } from "wouter";
import type { Item, Me, Page, ShoppingItem, StockFilter } from "../api/types";
import { can } from "../can";
import { Places } from "../components/Places";
import { keepUnits } from "../dates";
import { errorText, useGet } from "../hooks";
import { t, type MessageKey } from "../i18n";
import { itemName } from "../scan";

// "Shopping list" is /shopping's list (at zero or below the minimum, with
// how many to get), as on the touch screen; old `stock=zero` links open it too.
const FILTERS: [StockFilter, MessageKey][] = [["in", "filterIn"], ["shopping", "filterShopping"], ["all", "filterAll"]];

function stockFilter(asked: string | null): StockFilter {
  if (asked === "shopping" || asked === "zero") return "shopping";
  return asked === "all" ? "all" : "in";
}
const PAGE = 50;

function ItemEntry({ item, me }: { item: Item & Partial<ShoppingItem>; me: Me }) {
  const [open, setOpen] = useState(false);
  const name = itemName(item);
  return (
    <li className="item">
      <div className="item-row">
        <button type="button" className="item-toggle" aria-expanded={open} onClick={() => setOpen(!open)}
          title={open ? t("hidePlaces") : t("showPlaces")}>
          <span className="item-name">{keepUnits(name)}</span>
          <span className="item-total">
            {item.total_quantity > 0 ? <span>{t("total", { count: item.total_quantity })}</span>
              : <span className="none-home">{t("noneAtHome")}</span>}
            {item.to_buy !== undefined && <strong className="to-buy">{t("toBuy", { count: item.to_buy })}</strong>}
          </span>
        </button>
        <Link href={`/item/${item.id}`} className="item-link" aria-label={`${t("openItem")}: ${name}`}>›</Link>
      </div>
      {open && <Places id={item.id} canChange={can(me, "inventory.change")} />}
    </li>
  );
}

export function Inventory({ me }: { me: Me }) {
  const params = new URLSearchParams(useSearch());
  const [, navigate] = useLocation();
  const stock = stockFilter(params.get("stock"));
  const [search, setSearch] = useState(params.get("search") ?? "");
  const [typed, setTyped] = useState(search);
  const [limit, setLimit] = useState(PAGE);
  useEffect(() => {
    const timer = setTimeout(() => setSearch(typed.trim()), 200);
    return () => clearTimeout(timer);
  }, [typed]);
  useEffect(() => setLimit(PAGE), [search, stock]);

  // A search looks through everything, what ran out too ("none at home"):
  // an item at zero is still the one to find, not one to make again.
  const asked = stock === "in" && search ? "all" : stock;
  const query = new URLSearchParams({ stock: asked, limit: String(limit) });
  if (search) query.set("search", search);
  const items = useGet<Page<Item & Partial<ShoppingItem>>>(["items", asked, search, limit], `/item?${query}`);
  const mayAdd = can(me, "inventory.change");

  return (
    <section>
      <div className="title-row">
        <h1>{t("navInventory")}</h1>
        {mayAdd && <Link href="/new-item" className="button">{t("newItem")}</Link>}
      </div>
      <form className="search" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t("search")}
          <input type="search" value={typed} placeholder={t("searchPlaceholder")} onChange={(e) => setTyped(e.target.value)} />
        </label>
      </form>
      <div className="filters" role="group" aria-label={t("stockFilter")}>
        {FILTERS.map(([value, label]) => (
          <button key={value} type="button" aria-pressed={stock === value}
            onClick={() => navigate(value === "in" ? "/" : `/?stock=${value}`)}>{t(label)}</button>
        ))}
      </div>
      {items.error && <p className="error" role="alert">{errorText(items.error)}</p>}
      {items.data && (
        items.data.data.length ? (
          <ul className="items">
            {items.data.data.map((item) => <ItemEntry key={item.id} item={item} me={me} />)}
          </ul>
        ) : (
          <div className="nothing">
            <p className="muted">{search ? t("noMatches", { search }) : t("noItems")}</p>
            {search && mayAdd && asked === "all" && <Link href={`/new-item?${new URLSearchParams({ name: search })}`} className="button">
              {t("newItemNamed", { name: search })}</Link>}
          </div>
        )
      )}
      {items.data && items.data.total > items.data.data.length && (
        <button type="button" onClick={() => setLimit(limit + PAGE)}>{t("moreItems")}</button>
      )}
      {!items.data && !items.error && <p>{t("loading")}</p>}
    </section>
  );
}
