import { en, type MessageKey } from "./messages";

export type { MessageKey };

/** A message with a form for each plural category: `key_one`, `key_other`. */
export type PluralKey = MessageKey extends infer K ? (K extends `${infer Base}_other` ? Base : never) : never;

const catalog: Record<MessageKey, string> = en;
const LANGUAGE = "en"; // the catalog's: its plural forms follow its language's rules
const plurals = new Intl.PluralRules(LANGUAGE);

/** The message `key`, with `{name}` placeholders filled from `values`. */
export function t(key: MessageKey, values: Record<string, string | number> = {}): string {
  return catalog[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in values ? formatValue(values[name]) : whole,
  );
}

/** The form of `key` for `count` ("1 unit", "3 units"), `count` filled in too. */
export function tn(key: PluralKey, count: number, values: Record<string, string | number> = {}): string {
  const form = `${key}_${plurals.select(count)}`;
  return t((form in catalog ? form : `${key}_other`) as MessageKey, { ...values, count });
}

function formatValue(value: string | number): string {
  return typeof value === "number" ? formatNumber(value) : value;
}

const numbers = new Intl.NumberFormat(undefined);
const times = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

export function formatNumber(value: number): string {
  return numbers.format(value);
}

export function formatTime(iso: string): string {
  return times.format(new Date(iso));
}

/** "5 minutes ago", "yesterday": in the browser's language. */
export function formatAgo(iso: string, now: number = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const steps: [Intl.RelativeTimeFormatUnit, number][] = [
    ["second", 60], ["minute", 60], ["hour", 24], ["day", 30], ["month", 12], ["year", Infinity],
  ];
  let value = seconds;
  for (const [unit, size] of steps) {
    if (Math.abs(value) < size) return relative.format(value, unit);
    value = Math.round(value / size);
  }
  return relative.format(value, "year");
}
