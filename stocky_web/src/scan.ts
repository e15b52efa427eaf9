import { t } from "./i18n";
import type { Item } from "./api/types";

export interface ScanMessage {
  action: "scan_result";
  ok: boolean;
  result?: string;
  message?: string;
  item?: Item | null;
  location?: { id: string; name: string } | null;
  quantity?: number | null;
  created?: boolean;
  scanner?: { username: string; current_mode: string };
}

export interface Banner {
  text: string;
  tone: "good" | "info" | "bad";
}

export function itemName(item: Pick<Item, "name" | "upc">): string {
  if (item.name) return item.name;
  return item.upc ? t("unnamed", { upc: item.upc }) : t("unnamedNoCode");
}

/** A scan's banner, built from its fields (result, item, location,
 * quantity) so that it reads in the page's language, not the server's. */
export function describeScan(scan: ScanMessage): Banner {
  if (!scan.ok) return { text: t("scanFailed", { message: scan.message ?? "" }), tone: "bad" };
  const values = {
    item: scan.item ? itemName(scan.item) : "",
    location: scan.location?.name ?? "",
    quantity: scan.quantity ?? 0,
    scanner: scan.scanner?.username ?? "",
    mode: scan.scanner?.current_mode === "remove" ? t("modeRemove") : t("modeAdd"),
    view: "",
  };
  switch (scan.result) {
    case "added":
      return { text: t("scanAdded", values) + (scan.created ? ` · ${t("newProduct")}` : ""), tone: "good" };
    case "removed":
      return { text: t("scanRemoved", values), tone: "good" };
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
