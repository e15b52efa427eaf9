import { useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { Link, useLocation, useSearch } from "wouter";
import { api, ApiError } from "../api/client";
import type { Item, Location, Me, Page, Place } from "../api/types";
import { can } from "../can";
import { useShowBanner, useTapped } from "../components/Banner";
import { CameraButton } from "../components/CameraButton";
import { errorText, useAction, useGet, type Labels } from "../hooks";
import { t } from "../i18n";
import { itemName } from "../scan";

/** What the product service says of a barcode (GET /product/{barcode}). */
interface Product {
  barcode: string;
  found: boolean;
  name: string | null;
  description: string | null;
  item_id: string | null;
}

/** A new item, from the phone: its barcode (typed or read by the camera,
 * then looked up), its name, where it goes and how many. A barcode an item
 * has already opens that item instead of making a second one; loose apples
 * and home-made jam need no barcode at all. */
export function NewItem({ me }: { me: Me }) {
  const asked = new URLSearchParams(useSearch()).get("name") ?? "";
  const [code, setCode] = useState("");
  const [name, setName] = useState(asked);
  const [suggested, setSuggested] = useState<string | null>(null); // the name the lookup filled in
  const [lookup, setLookup] = useState<string | null>(null);
  const [where, setWhere] = useState("");
  const [count, setCount] = useState("1");
  const locations = useGet<Page<Location>>(["locations"], "/location");
  const labels: Labels = { name: t("name"), upc: t("barcode"), location_id: t("whereItGoes"), quantity: t("howMany") };
  const action = useAction(labels);
  const looking = useAction(labels);
  const [, navigate] = useLocation();
  const showBanner = useShowBanner();
  const tapped = useTapped();
  const queries = useQueryClient();
  if (!can(me, "inventory.change")) return <p className="error" role="alert">{t("forbidden")}</p>;
  const places = locations.data?.data ?? [];
  const place = places.find((l) => l.id === where) ?? places[0];

  /** Open the item that has the barcode already, saying so. */
  const openExisting = (id: string, known: string) => {
    showBanner({ text: t("barcodeTaken", { name: known }), tone: "info" });
    navigate(`/item/${id}`);
  };

  const lookUp = (barcode: string) => {
    const wanted = barcode.trim();
    if (!wanted) return;
    setLookup(t("lookingUp"));
    void looking.run(async () => {
      try {
        const product = await api<Product>("GET", `/product/${encodeURIComponent(wanted)}`);
        if (product.item_id) return openExisting(product.item_id, itemName({ name: product.name, upc: product.barcode }));
        if (product.name) {
          if (!name.trim() || name === suggested) setName(product.name);
          setSuggested(product.name);
          setLookup(t("productFound", { name: product.name }));
        } else {
          setLookup(t("productUnknown"));
        }
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return setLookup(t("productUnknown"));
        if (error instanceof ApiError && error.status === 502) return setLookup(t("lookupFailed"));
        setLookup(null);
        throw error;
      }
    });
  };

  function save(event: FormEvent) {
    event.preventDefault();
    const barcode = code.trim();
    const named = name.trim();
    if (!barcode && !named) return void action.run(() => Promise.reject(new ApiError(422, "invalid", t("nameOrBarcode"))));
    void action.run(async () => {
      let item: Item;
      try {
        item = await api<Item>("POST", "/item", { ...(named ? { name: named } : {}), ...(barcode ? { upc: barcode } : {}) });
      } catch (error) {
        if (error instanceof ApiError && error.status === 409 && error.id) return openExisting(error.id, barcode);
        throw error;
      }
      const quantity = Number(count);
      try {
        const put = await api<Place>("POST", "/sku", { item_id: item.id, location_id: place.id, quantity });
        if (quantity > 0) {
          await tapped({ itemId: item.id, item: itemName(item), skuId: put.id, locationId: put.location_id,
            location: put.location_name, delta: quantity, quantity: put.quantity, changeId: null });
        } else {
          showBanner({ text: t("itemMade", { name: itemName(item) }), tone: "good" });
        }
      } catch (error) {
        // The item is made; its page offers a place again.
        showBanner({ text: `${itemName(item)}: ${errorText(error, labels)}`, tone: "bad" });
      }
      void queries.invalidateQueries({ queryKey: ["items"] });
      navigate(`/item/${item.id}`);
    });
  }

  return (
    <section>
      <h1>{t("newItem")}</h1>
      <p className="muted">{t("newItemHint")}</p>
      <form className="edit new-item" onSubmit={save} aria-label={t("newItem")}>
        <label>{t("barcode")}
          <input value={code} inputMode="numeric" autoComplete="off" enterKeyHint="search"
            onChange={(e) => setCode(e.target.value)}
            onKeyDown={(e) => {
              if (e.key !== "Enter") return;
              e.preventDefault(); // Enter here looks the barcode up; Add item saves
              lookUp(code);
            }} />
        </label>
        <div className="barcode-buttons">
          <CameraButton onCode={(read) => {
            setCode(read);
            lookUp(read);
          }} />
          <button type="button" disabled={!code.trim() || looking.busy} onClick={() => lookUp(code)}>{t("lookUp")}</button>
        </div>
        {lookup && !looking.error && <p className="muted" role="status">{lookup}</p>}
        {looking.error && <p className="error" role="alert">{looking.error}</p>}
        <label>{t("name")}<input value={name} autoComplete="off" onChange={(e) => setName(e.target.value)} /></label>
        {places.length ? (
          <div className="where-row">
            <label>{t("whereItGoes")}
              <select value={place.id} onChange={(e) => setWhere(e.target.value)}>
                {places.map((l) => <option key={l.id} value={l.id}>{l.name}</option>)}
              </select>
            </label>
            <label>{t("howMany")}
              <input type="number" min={0} step={1} inputMode="numeric" required value={count}
                onChange={(e) => setCount(e.target.value)} />
            </label>
          </div>
        ) : locations.data && (
          <p className="notice">{t("noLocationsYet")} <Link href="/locations">{t("navLocations")}</Link></p>
        )}
        {action.error && <p className="error" role="alert">{action.error}</p>}
        <button type="submit" className="primary" disabled={action.busy || !place}>{t("addItem")}</button>
      </form>
    </section>
  );
}
