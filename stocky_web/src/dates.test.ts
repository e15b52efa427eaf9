import { describe, expect, it } from "vitest";
import { daysLeftText, formatDay, journalDates, keepUnits, quickDate, tripGroups } from "./dates";

describe("quick dates", () => {
  const today = new Date(2026, 0, 31); // 31 January 2026
  it("count days and weeks from today", () => {
    expect(quickDate("+3d", today)).toBe("2026-02-03");
    expect(quickDate("+1w", today)).toBe("2026-02-07");
  });
  it("end a month on its last day when the day does not exist", () => {
    expect(quickDate("+1m", today)).toBe("2026-02-28");
    expect(quickDate("+3m", today)).toBe("2026-04-30");
    expect(quickDate("+1m", new Date(2027, 11, 15))).toBe("2028-01-15");
  });
  it("refuses what is not a card", () => {
    expect(() => quickDate("tomorrow", today)).toThrow();
  });
});

describe("days left", () => {
  it("reads expired, today and ahead in words", () => {
    expect(daysLeftText(-2)).toMatch(/^Expired .*2/);
    expect(daysLeftText(-1)).toBe("Expired yesterday");
    expect(daysLeftText(0)).toBe("Best before today");
    expect(daysLeftText(1)).toBe("Best before tomorrow");
    expect(daysLeftText(5)).toMatch(/^Best before .*5/);
  });
  it("formats a day as the calendar day it names, whatever the time zone", () => {
    expect(formatDay("2026-12-31")).toBe(new Intl.DateTimeFormat(undefined, { dateStyle: "medium" }).format(new Date(2026, 11, 31)));
  });
  it("lists a journal row's dates and leaves undated units out", () => {
    expect(journalDates([["2026-12-31", -2], [null, -1]])).toBe(`${formatDay("2026-12-31")} ×2`);
    expect(journalDates(null)).toBe("");
  });
});

describe("the shopping trip", () => {
  it("puts what is left to get on top and the basket below, keeping the order", () => {
    const items = [
      { id: "a", in_basket: true }, { id: "b", in_basket: false }, { id: "c" }, { id: "d", in_basket: true },
    ];
    const { toGet, inBasket } = tripGroups(items);
    expect(toGet.map((i) => i.id)).toEqual(["b", "c"]);
    expect(inBasket.map((i) => i.id)).toEqual(["a", "d"]);
  });
  it("keeps a row just ticked or unticked where it was until it is let go", () => {
    const items = [{ id: "a", in_basket: true }, { id: "b", in_basket: false }, { id: "c", in_basket: false }];
    const { toGet, inBasket } = tripGroups(items, new Map([["a", false], ["b", true]]));
    expect(toGet.map((i) => i.id)).toEqual(["a", "c"]);
    expect(inBasket.map((i) => i.id)).toEqual(["b"]);
  });
  it("keeps a quantity and its unit on one line", () => {
    expect(keepUnits("Greek yoghurt 500 g")).toBe("Greek yoghurt 500\u00a0g");
    expect(keepUnits("Whole milk 2 l")).toBe("Whole milk 2\u00a0l");
    expect(keepUnits("Black tea, 80 bags")).toBe("Black tea, 80\u00a0bags");
    expect(keepUnits("Free-range eggs, 6")).toBe("Free-range eggs, 6");
    expect(keepUnits("Tuna chunks in brine")).toBe("Tuna chunks in brine");
  });
});
