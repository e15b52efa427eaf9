// Which cached queries a change event makes stale. A stock change moves an
// item's total (inventory, shopping list, item page) and a location's; a
// user change may be a scanner's mode or location.
const STALE: Record<string, string[][]> = {
  item: [["items"], ["item"]],
  sku: [["items"], ["item"], ["locations"]],
  stock_change: [["items"], ["item"], ["locations"]],
  location: [["locations"], ["items"], ["item"], ["scanners"]],
  alert: [["alerts"]],
  user: [["users"], ["scanners"]],
  scanner: [["scanners"]],
};

export function staleKeys(entity: string): string[][] {
  return STALE[entity] ?? [];
}
