import { describe, expect, it } from "vitest";
import type { StockChange } from "./api/types";
import { describeScan, tapBanner } from "./scan";
import { findChange, historyMark, mayUndo, undoneIds, undoneText } from "./undo";

function row(id: string, delta: number, after: number, scanId: string | null = null, place = "Fridge"): StockChange {
  return {
    id, timestamp: "2026-11-30T10:00:00Z", location_name: place, delta, quantity_after: after,
    source: "api", scan_id: scanId,
  };
}

describe("undo in the history", () => {
  // newest first, as the server sends it: c2 was undone by u1
  const history = [row("u1", -1, 4, "undo:c2"), row("c2", 1, 5), row("c1", 2, 4, "scan-7")];
  const undone = undoneIds(history);
  it("knows which changes were undone", () => {
    expect([...undone]).toEqual(["c2"]);
  });
  it("marks the undo and the change it undid", () => {
    expect(history.map((change) => historyMark(change, undone))).toEqual(["undo", "undone", null]);
  });
  it("offers Undo only for changes neither undone nor undos themselves", () => {
    expect(history.map((change) => mayUndo(change, undone))).toEqual([false, false, true]);
  });
});

describe("the change a − / + made", () => {
  const history = [row("u1", -1, 5, "undo:c3"), row("c3", 1, 6), row("p1", 1, 5, null, "Pantry"), row("c2", 1, 5)];
  it("is the newest at that place with that delta and count", () => {
    expect(findChange(history, { location_name: "Fridge", delta: 1, quantity_after: 5 })).toBe("c2");
    expect(findChange(history, { location_name: "Pantry", delta: 1, quantity_after: 5 })).toBe("p1");
  });
  it("is never an undo, and none when nothing matches", () => {
    expect(findChange(history, { location_name: "Fridge", delta: -1, quantity_after: 5 })).toBeNull();
  });
});

describe("undo banners", () => {
  const scanner = { username: "Kitchen", current_mode: "add" };
  const item = { id: "1", name: "Whole Milk", upc: null } as never;
  const location = { id: "2", name: "Fridge" };
  it("offer Undo for a scan that changed stock", () => {
    const added = describeScan({
      action: "scan_result", ok: true, result: "added", item, location, quantity: 4, scanner, change_id: "c9",
    });
    expect(added.undo).toEqual({ changeId: "c9", item: "Whole Milk" });
    const removed = describeScan({
      action: "scan_result", ok: true, result: "removed", item, location, quantity: 3, scanner, change_id: "c10",
    });
    expect(removed.undo).toEqual({ changeId: "c10", item: "Whole Milk" });
  });
  it("offer none when the scan changed nothing", () => {
    expect(describeScan({ action: "scan_result", ok: true, result: "location", location, scanner }).undo).toBeUndefined();
  });
  it("say what an undo left, from its fields", () => {
    expect(undoneText("Whole Milk", { location_name: "Fridge", quantity_after: 3 }))
      .toBe("Undone: Whole Milk in Fridge is back to 3");
    expect(describeScan({
      action: "scan_result", ok: true, result: "undone", message: "Server sentence", item, location, quantity: 3, scanner,
    }).text).toBe("Undone: Whole Milk in Fridge is back to 3");
  });
});

describe("tap banners", () => {
  const tap = { itemId: "i", item: "Hummus", skuId: "s", locationId: "l", location: "Fridge", changeId: "c1" };
  it("offer Undo for every tap, dated or not, and dates only after an undated add", () => {
    const added = tapBanner({ ...tap, delta: 1, quantity: 2 });
    expect(added).toMatchObject({ text: "Added Hummus to Fridge (now 2)", undo: { changeId: "c1", item: "Hummus" } });
    expect(added.dating).toEqual({ itemId: "i", locationId: "l", skuId: "s" });
    const dated = tapBanner({ ...tap, delta: 3, quantity: 5, bestBefore: "2026-12-07" });
    expect(dated.text).toMatch(/^Added Hummus to Fridge \(now 5\) · Best before /);
    expect(dated.dating).toBeUndefined();
    const taken = tapBanner({ ...tap, delta: -1, quantity: 0, bestBefore: "2026-12-07" });
    expect(taken.text).toMatch(/^Took Hummus from Fridge \(now 0\) · Best before /);
    expect(taken.undo).toEqual({ changeId: "c1", item: "Hummus" });
  });
  it("offer no Undo when the change could not be named", () => {
    expect(tapBanner({ ...tap, changeId: null, delta: -1, quantity: 1 }).undo).toBeUndefined();
  });
});
