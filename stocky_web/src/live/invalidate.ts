// Which cached queries a change event makes stale. A stock change moves an
// item's total (inventory, shopping list, item page) and a location's; a
// user change may be a scanner's mode or location. Lots (Use soon) follow
// every stock change.
const STALE: Record<string, string[][]> = {
  item: [["items"], ["item"], ["lots"]],
  sku: [["items"], ["item"], ["locations"], ["lots"]],
  stock_change: [["items"], ["item"], ["locations"], ["lots"]],
  location: [["locations"], ["items"], ["item"], ["scanners"], ["lots"]],
  alert: [["alerts"]],
  user: [["users"], ["scanners"]],
  scanner: [["scanners"]],
};

export function staleKeys(entity: string): string[][] {
  return STALE[entity] ?? [];
}
