import { describe, expect, it } from "vitest";
import { ApiError } from "./api/client";
import { errorText } from "./hooks";
import { formatNumber, t, tn } from "./i18n";
import { en } from "./i18n/messages";
import { backoffDelay } from "./live/backoff";
import { staleKeys } from "./live/invalidate";
import { loadShopping, saveShopping } from "./offline";
import { describeScan } from "./scan";
import { newUuid, uiId } from "./uiId";
import { pathForView } from "./views";

describe("the message catalog", () => {
  it("fills placeholders and formats numbers for the locale", () => {
    expect(t("total", { count: 3 })).toBe("3 in total");
    expect(t("total", { count: 12345 })).toBe(`${formatNumber(12345)} in total`);
  });
  it("leaves a placeholder it was not given visible rather than dropping it", () => {
    expect(t("scanAdded", { item: "Milk" })).toBe("Added Milk to {location} (now {quantity})");
  });
  it("has no empty messages", () => {
    for (const [key, text] of Object.entries(en)) expect(text.trim(), key).not.toBe("");
  });
});

describe("plural forms", () => {
  it("pick the catalog's form for the count", () => {
    expect(tn("unitsHere", 1)).toBe("1 unit here");
    expect(tn("unitsHere", 0)).toBe("0 units here");
    expect(tn("movedAll", 12, { from: "Pantry", into: "Cellar" })).toBe("Moved 12 units from Pantry into Cellar.");
  });
});

describe("a refusal as a person reads it", () => {
  const labels = { min_quantity: "Keep at least", name: "Name" };
  it("names a refused field by the label typed into, not its name in the API", () => {
    const refused = new ApiError(422, "invalid_input", "Invalid input (min_quantity: Input should be less than or equal to 1000000).",
      [{ field: "min_quantity", message: "Input should be less than or equal to 1000000" }]);
    expect(errorText(refused, labels)).toBe("“Keep at least” was not accepted: Input should be less than or equal to 1000000.");
  });
  it("keeps Stocky's own sentence", () => {
    const refused = new ApiError(422, "invalid_input", "The name cannot be empty; type the item's name.",
      [{ field: "name", message: "must not be empty" }]);
    expect(errorText(refused, labels)).toBe("The name cannot be empty; type the item's name.");
  });
  it("keeps the whole sentence when a field has no label here", () => {
    const refused = new ApiError(422, "invalid_input", "Invalid input (color: Extra inputs are not permitted).",
      [{ field: "color", message: "Extra inputs are not permitted" }]);
    expect(errorText(refused, labels)).toBe("Invalid input (color: Extra inputs are not permitted).");
  });
});

describe("reconnecting", () => {
  it("waits longer after each failure, never beyond 15 s", () => {
    const delays = [0, 1, 2, 3, 4, 5, 10, 50].map((attempt) => backoffDelay(attempt, 1));
    expect(delays.slice(0, 6)).toEqual([500, 1000, 2000, 4000, 8000, 15000]);
    expect(Math.max(...delays)).toBe(15000);
  });
  it("spreads browsers out by up to a quarter", () => {
    expect(backoffDelay(2, 0)).toBe(1500);
    expect(backoffDelay(2, 0.5)).toBe(1750);
  });
});

describe("change events", () => {
  it("a stock change makes inventory, item pages and locations stale", () => {
    expect(staleKeys("sku")).toEqual([["items"], ["item"], ["locations"], ["lots"]]);
  });
  it("an unknown entity makes nothing stale", () => {
    expect(staleKeys("weather")).toEqual([]);
  });
});

describe("scan banners", () => {
  const scanner = { username: "Kitchen", current_mode: "add" };
  const item = { id: "1", name: "Whole Milk", upc: null } as never;
  it("are built from the scan's fields, not from the server's sentence", () => {
    const banner = describeScan({
      action: "scan_result", ok: true, result: "added", message: "Server sentence",
      item, location: { id: "2", name: "Fridge" }, quantity: 4, scanner,
    });
    expect(banner).toEqual({
      text: "Added Whole Milk to Fridge (now 4)", tone: "good", dating: { itemId: "1", locationId: "2" },
    });
  });
  it("offer no dates for a unit that came with one (a GS1 code)", () => {
    const banner = describeScan({
      action: "scan_result", ok: true, result: "added", item, location: { id: "2", name: "Fridge" },
      quantity: 4, best_before: "2026-12-31", scanner,
    });
    expect(banner.dating).toBeUndefined();
    expect(banner.text).toContain("Best before");
  });
  it("name an unnamed product by its barcode", () => {
    const banner = describeScan({
      action: "scan_result", ok: true, result: "removed",
      item: { id: "1", name: null, upc: "4006381333931" } as never,
      location: { id: "2", name: "Pantry" }, quantity: 0, scanner,
    });
    expect(banner.text).toBe("Took Unnamed product (4006381333931) from Pantry (now 0)");
  });
  it("show a refused scan as a failure, in the page's words where it knows the refusal", () => {
    expect(describeScan({ action: "scan_result", ok: false, message: "Nothing to remove.", code: "conflict" }))
      .toEqual({ text: "Scan not taken: Nothing to remove.", tone: "bad" });
    expect(describeScan({ action: "scan_result", ok: false, message: "Scan a location label first.", code: "needs_location" }))
      .toEqual({ text: "Scan not taken: where does it go? Scan a location label first.", tone: "bad" });
    expect(describeScan({ action: "scan_result", ok: false, message: "The disk is full", code: "storage_full" }).text)
      .toBe("Scan not saved: Stocky's storage is full.");
    expect(describeScan({ action: "scan_result", ok: false, message: "Odd", code: "toString" }).text)
      .toBe("Scan not taken: Odd");
  });
});

describe("show_view", () => {
  it("maps each view to its page", () => {
    expect(pathForView("inventory")).toBe("/");
    expect(pathForView("shopping")).toBe("/shopping");
    expect(pathForView("log")).toBe("/log");
    expect(pathForView("use_soon")).toBe("/use-soon");
  });
  it("ignores views it does not know", () => {
    expect(pathForView("constructor")).toBeNull();
    expect(pathForView(7)).toBeNull();
  });
});

describe("the screen id", () => {
  it("is a version 4 UUID", () => {
    expect(newUuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
  it("stays the same in one browser and differs between browsers", () => {
    localStorage.clear();
    const first = uiId();
    expect(uiId()).toBe(first);
    localStorage.clear();
    expect(uiId()).not.toBe(first);
  });
});

describe("the kept shopping list", () => {
  it("keeps names and barcodes, with the time it was kept and whether its keeper may tick", () => {
    saveShopping([{ id: "1", name: "Jam", upc: null, total_quantity: 0, to_buy: 2, in_basket: true } as never],
      true, localStorage, new Date("2026-11-30T10:00:00Z"));
    expect(loadShopping()).toEqual({
      savedAt: "2026-11-30T10:00:00.000Z", items: [{ id: "1", name: "Jam", upc: null, to_buy: 2, in_basket: true }],
      canTick: true,
    });
  });
  it("reads a damaged entry as no list", () => {
    localStorage.setItem("stocky.shopping", "{not json");
    expect(loadShopping()).toBeNull();
  });
});
