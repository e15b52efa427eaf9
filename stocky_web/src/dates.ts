// Best-before dates as a person reads them (DESIGN.md section 13): days
// left through the message catalog and Intl, the quick choices after an add,
// and the shopping trip's two groups.
import { t, type MessageKey } from "./i18n";

/** The quick choices after an add, as on the printed date cards. */
export const QUICK_DATES: [string, MessageKey][] = [
  ["+3d", "date3Days"], ["+1w", "date1Week"], ["+1m", "date1Month"], ["+3m", "date3Months"],
];

/** `YYYY-MM-DD` of a local calendar day. */
export function isoDay(day: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`;
}

function localDay(iso: string): Date {
  const [year, month, day] = iso.split("-").map(Number);
  return new Date(year, month - 1, day);
}

/** The date a card payload means from `today`, as Stocky reads it:
 * `+3d`, `+2w`, `+1m` (the 31st of a shorter month is its last day). */
export function quickDate(payload: string, today: Date = new Date()): string {
  const match = /^\+(\d+)([dwm])$/.exec(payload);
  if (!match) throw new Error(`not a date card: ${payload}`);
  const count = Number(match[1]);
  if (match[2] === "m") {
    const first = new Date(today.getFullYear(), today.getMonth() + count, 1);
    const last = new Date(first.getFullYear(), first.getMonth() + 1, 0).getDate();
    return isoDay(new Date(first.getFullYear(), first.getMonth(), Math.min(today.getDate(), last)));
  }
  const days = count * (match[2] === "w" ? 7 : 1);
  return isoDay(new Date(today.getFullYear(), today.getMonth(), today.getDate() + days));
}

const days = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** A best-before date in the browser's language ("31 Dec 2026"). */
export function formatDay(iso: string): string {
  return days.format(localDay(iso));
}

/** "Expired 2 days ago", "Best before today", "Best before tomorrow". */
export function daysLeftText(daysLeft: number): string {
  if (daysLeft < 0) return t("expiredWhen", { when: relative.format(daysLeft, "day") });
  return t("bestBeforeWhen", { when: relative.format(daysLeft, "day") });
}

/** The dates a journal row names, "31 Dec 2026 ×2", undated units left out. */
export function journalDates(lots: [string | null, number][] | null | undefined): string {
  return (lots ?? [])
    .filter(([day]) => day !== null)
    .map(([day, count]) => `${formatDay(day as string)} ×${Math.abs(count)}`)
    .join(", ");
}

/** The shopping trip: what is left to get on top, the basket below, each in
 * the list's own order. An item in `held` (just ticked or unticked) stays in
 * the group it was in when tapped, so the row does not move from under the
 * thumb at once. */
export function tripGroups<T extends { id: string; in_basket?: boolean }>(
  items: T[], held: ReadonlyMap<string, boolean> = new Map(),
): { toGet: T[]; inBasket: T[] } {
  const inBasket = (i: T) => (held.has(i.id) ? held.get(i.id) : i.in_basket);
  return { toGet: items.filter((i) => !inBasket(i)), inBasket: items.filter((i) => inBasket(i)) };
}

/** A name as the shopping list shows it: a quantity keeps its unit on the
 * same line ("Greek yoghurt 500 g", never "500" and "g" apart). */
export function keepUnits(name: string): string {
  return name.replace(/(\d)\s+(?=\p{L}{1,4}\b)/gu, "$1\u00a0");
}
