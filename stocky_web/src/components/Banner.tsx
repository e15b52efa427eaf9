import { createContext, useContext, useEffect, useRef, useState, type RefObject } from "react";
import { api, ApiError } from "../api/client";
import type { ItemDetail, Location, Page, StockChange } from "../api/types";
import { useAction, useGet } from "../hooks";
import { t } from "../i18n";
import { datedBanner, describeScan, tapBanner, type Banner, type JustAdded, type NeedsPlace, type ScanMessage, type Tapped } from "../scan";
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

// The control a person last tapped outside the banner, and when: the banner,
// fixed at the bottom of the screen, must never cover it (a − / + tapped low
// on a phone, then "A date…" making the banner taller). An old tap does not
// count: a scan's banner arriving later must not scroll the page.
const RECENT_MS = 20000;
let lastTapped: { element: Element; at: number } | null = null;

/** Remember taps outside the banner, for as long as the app is up. */
export function trackTaps(): () => void {
  const remember = (event: PointerEvent) => {
    if (event.target instanceof Element && !event.target.closest(".banner")) {
      lastTapped = { element: event.target, at: Date.now() };
    }
  };
  document.addEventListener("pointerdown", remember, true);
  return () => document.removeEventListener("pointerdown", remember, true);
}

/** Leave room under the page for the banner (`--banner-space`) and scroll
 * the control just tapped above it, each time the banner changes size. */
function useKeepTapInSight(banner: RefObject<HTMLDivElement | null>) {
  useEffect(() => {
    const element = banner.current;
    if (!element) return;
    const root = document.documentElement;
    const place = () => {
      const top = element.getBoundingClientRect().top;
      root.style.setProperty("--banner-space", `${Math.ceil(window.innerHeight - top)}px`);
      const recent = lastTapped && Date.now() - lastTapped.at < RECENT_MS ? lastTapped.element : null;
      const tapped = recent?.isConnected ? recent : null;
      if (!tapped) return;
      const covered = tapped.getBoundingClientRect().bottom - (top - 8);
      if (covered > 0) window.scrollBy({ top: covered });
    };
    const watch = new ResizeObserver(place);
    watch.observe(element);
    return () => {
      watch.disconnect();
      root.style.removeProperty("--banner-space");
    };
  }, [banner]);
}

/** "Where does it go?": the places as buttons, as on the touch screen; a tap
 * sets the scanner there and applies its scan (POST /scanner/{id}/scan-into). */
function PlaceChoices({ busy, onPick }: { busy: boolean; onPick: (location: Location) => void }) {
  const locations = useGet<Page<Location>>(["locations"], "/location");
  return (
    <div className="banner-places" role="group" aria-label={t("placesToChoose")}>
      {(locations.data?.data ?? []).map((location) => (
        <button key={location.id} type="button" disabled={busy} onClick={() => onPick(location)}>{location.name}</button>
      ))}
    </div>
  );
}

/** A result over the page; after an undated add it offers best-before dates
 * for that unit (POST /sku/{id}/date: the count stays, the unit gets a date),
 * then "Change date" and "Undo date" for a wrong tap (the same call with
 * from_best_before), and after a stock change an Undo (its refusal stays on
 * the banner). */
export function BannerView({ banner, canChange, canPlace, onChange, onHold }: {
  banner: Banner; canChange: boolean; canPlace: boolean; onChange: (banner: Banner | null) => void; onHold: () => void;
}) {
  const action = useAction();
  const own = useRef<HTMLDivElement>(null);
  const [changing, setChanging] = useState(false);
  useEffect(() => setChanging(false), [banner]);
  useKeepTapInSight(own);
  const dating = canChange ? banner.dating : undefined;
  const dated = canChange ? banner.dated : undefined;
  const undo = canChange ? banner.undo : undefined;
  const place = canPlace ? banner.place : undefined;
  const act = (work: () => Promise<Banner | null>) => {
    onHold();
    void action.run(async () => onChange(await work()));
  };
  const undoIt = (change: NonNullable<Banner["undo"]>) => act(async () => {
    const inverse = await api<StockChange>("POST", `/stock-change/${change.changeId}/undo`);
    return { text: change.undone ?? undoneText(change.item, inverse), tone: "info" };
  });
  const putInto = (waiting: NeedsPlace) => (location: Location) => act(async () => {
    const result = await api<Omit<ScanMessage, "ok" | "action">>("POST", `/scanner/${waiting.scannerId}/scan-into`,
      { location_id: location.id, msg: waiting.scan });
    return describeScan({ action: "scan_result", ok: true, ...result });
  });
  const pick = (added: JustAdded) => (day: string) => act(async () => {
    const skuId = await skuOf(added);
    await api("POST", `/sku/${skuId}/date`, { best_before: day });
    return datedBanner({ ...banner, dating: { ...added, skuId } }, skuId, day);
  });
  const redate = (was: NonNullable<Banner["dated"]>, day: string | null) => act(async () => {
    if (day === was.day) {
      setChanging(false);
      return banner;
    }
    await api("POST", `/sku/${was.skuId}/date`, { from_best_before: was.day, best_before: day });
    return day ? datedBanner(was.before, was.skuId, day) : was.before;
  });
  return (
    <div ref={own} className={`banner ${banner.tone}`} role="status" aria-live="polite">
      <div className="banner-head">
        <p onClick={() => onChange(null)}>{place ? t("scanNeedsPlace") : banner.text}</p>
        {place && <button type="button" className="undo" onClick={() => onChange(null)}>{t("cancel")}</button>}
        {undo && <button type="button" className="undo" disabled={action.busy} onClick={() => undoIt(undo)}>{t("undo")}</button>}
        {dated && (
          <>
            <button type="button" className="undo" aria-expanded={changing} disabled={action.busy}
              onClick={() => { onHold(); setChanging(!changing); }}>{t("changeDate")}</button>
            <button type="button" className="undo" disabled={action.busy} onClick={() => redate(dated, null)}>{t("undoDate")}</button>
          </>
        )}
      </div>
      {place && <PlaceChoices busy={action.busy} onPick={putInto(place)} />}
      {dating && <DateChoices key="add" busy={action.busy} onPick={pick(dating)} onOpen={onHold} />}
      {dated && changing && <DateChoices key={dated.day} busy={action.busy} onPick={(day) => redate(dated, day)} onOpen={onHold} />}
      {action.error && <p className="error banner-error" role="alert">{action.error}</p>}
    </div>
  );
}
