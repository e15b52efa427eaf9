import { formatDay } from "./dates";
import { t, type MessageKey } from "./i18n";
import type { Item } from "./api/types";
import type { Undoable } from "./undo";

export interface ScanMessage {
  action: "scan_result";
  ok: boolean;
  result?: string;
  message?: string;
  code?: string;
  item?: Item | null;
  location?: { id: string; name: string } | null;
  quantity?: number | null;
  best_before?: string | null;
  created?: boolean;
  change_id?: string | null;
  scanner?: { username: string; current_mode: string };
  /** A refusal for want of a place: the scan, and the scanner that sent it. */
  needs?: string;
  scan?: string;
  scanner_id?: string;
}

/** A scanner's scan waiting for a place: a tap on one puts it there. */
export interface NeedsPlace {
  scannerId: string;
  scan: string;
}

/** The place a unit was just added to, undated: the banner offers dates. */
export interface JustAdded {
  itemId: string;
  locationId: string;
  skuId?: string;
}

/** A unit just dated from the banner: its date can still be changed, or
 * taken back (undated again, the banner as it was before the date). */
export interface JustDated {
  skuId: string;
  day: string;
  before: Banner;
}

export interface Banner {
  text: string;
  tone: "good" | "info" | "bad";
  dating?: JustAdded;
  dated?: JustDated;
  undo?: Undoable;
  place?: NeedsPlace;
}

/** The banner once the unit of `before` got the date `day`. */
export function datedBanner(before: Banner, skuId: string, day: string): Banner {
  return { text: `${before.text} · ${t("bestBefore")} ${formatDay(day)}`, tone: "good", dated: { skuId, day, before } };
}

/** A stock change made by a tap (− / +, a date's −, an add with a date): what
 * the banner says of it. `changeId` is the journalled change, for its Undo. */
export interface Tapped {
  itemId: string;
  item: string;
  skuId: string;
  locationId: string;
  location: string;
  delta: number;
  quantity: number;
  changeId: string | null;
  bestBefore?: string | null;
}

/** The banner after a tap, as after a scan: "Added …" or "Took …", its date
 * if it had one, the Undo, and for an undated add the date choices. */
export function tapBanner(tap: Tapped): Banner {
  const told = { item: tap.item, location: tap.location, quantity: tap.quantity };
  const dated = tap.bestBefore ? ` · ${t("bestBefore")} ${formatDay(tap.bestBefore)}` : "";
  const undo = tap.changeId ? { undo: { changeId: tap.changeId, item: tap.item } } : {};
  if (tap.delta < 0) return { text: t("scanRemoved", told) + dated, tone: "good", ...undo };
  const dating = tap.bestBefore ? undefined : { itemId: tap.itemId, locationId: tap.locationId, skuId: tap.skuId };
  return { text: t("scanAdded", told) + dated, tone: "good", dating, ...undo };
}

export function itemName(item: Pick<Item, "name" | "upc">): string {
  if (item.name) return item.name;
  return item.upc ? t("unnamed", { upc: item.upc }) : t("unnamedNoCode");
}

// Refusals a kitchen meets often, said in the page's language; any other
// refusal shows the server's sentence.
const REFUSALS: Record<string, MessageKey> = {
  needs_location: "scanNeedsLocation",
  storage_full: "scanStorageFull",
  storage_busy: "scanStorageBusy",
  storage_unavailable: "scanStorageBusy",
  forbidden: "scanForbidden",
};

function refusal(scan: ScanMessage): string {
  const key = scan.code && Object.hasOwn(REFUSALS, scan.code) ? REFUSALS[scan.code] : null;
  return key ? t(key) : t("scanFailed", { message: scan.message ?? "" });
}

/** A scan's banner, built from its fields (result, item, location,
 * quantity) so that it reads in the page's language, not the server's. */
export function describeScan(scan: ScanMessage): Banner {
  if (!scan.ok) {
    const place = scan.needs === "location" && scan.scanner_id && scan.scan
      ? { place: { scannerId: scan.scanner_id, scan: scan.scan } } : {};
    return { text: refusal(scan), tone: "bad", ...place };
  }
  const values = {
    item: scan.item ? itemName(scan.item) : "",
    location: scan.location?.name ?? "",
    quantity: scan.quantity ?? 0,
    scanner: scan.scanner?.username ?? "",
    mode: scan.scanner?.current_mode === "remove" ? t("modeRemove") : t("modeAdd"),
    view: "",
  };
  const undo = scan.change_id && scan.item ? { undo: { changeId: scan.change_id, item: values.item } } : {};
  switch (scan.result) {
    case "added": {
      const text = t("scanAdded", values) + (scan.created ? ` · ${t("newProduct")}` : "");
      if (scan.best_before) return { text: `${text} · ${t("bestBefore")} ${formatDay(scan.best_before)}`, tone: "good", ...undo };
      const dating = scan.item && scan.location ? { itemId: scan.item.id, locationId: scan.location.id } : undefined;
      return { text, tone: "good", dating, ...undo };
    }
    case "dated":
      return { text: t("scanDated", { ...values, date: scan.best_before ? formatDay(scan.best_before) : "" }), tone: "good" };
    case "removed":
      return { text: t("scanRemoved", values), tone: "good", ...undo };
    case "undone":
      return { text: t("undone", values), tone: "info" };
    case "associated":
      return { text: t("scanAssociated"), tone: "info" };
    case "mode":
      return { text: t("scanMode", values), tone: "info" };
    case "location":
      return { text: t("scanLocation", values), tone: "info" };
    case "duplicate":
      return { text: t("scanDuplicate"), tone: "info" };
    default:
      return { text: scan.message ?? "", tone: "info" };
  }
}
