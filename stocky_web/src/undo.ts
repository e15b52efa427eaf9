// Undoing a stock change (DESIGN.md section 12): the server applies the exact
// inverse and journals it with `scan_id` "undo:<id of the change undone>".
import type { StockChange } from "./api/types";
import { t } from "./i18n";

const UNDO_PREFIX = "undo:";

/** A change the banner offers to undo, and the item's name to say so. */
export interface Undoable {
  changeId: string;
  item: string;
  /** What to say once undone, when it is more than one item's place (a move). */
  undone?: string;
}

/** The ids of the changes that `changes` undid. */
export function undoneIds(changes: StockChange[]): Set<string> {
  const ids = new Set<string>();
  for (const change of changes) {
    if (change.scan_id?.startsWith(UNDO_PREFIX)) ids.add(change.scan_id.slice(UNDO_PREFIX.length));
  }
  return ids;
}

/** A history row may be undone unless it is an undo or was undone already. */
export function mayUndo(change: StockChange, undone: Set<string>): boolean {
  return historyMark(change, undone) === null;
}

/** What the history marks a row as: an undo, a change undone later, or neither. */
export function historyMark(change: StockChange, undone: Set<string>): "undo" | "undone" | null {
  if (change.scan_id?.startsWith(UNDO_PREFIX)) return "undo";
  return undone.has(change.id) ? "undone" : null;
}

/** "Undone: Milk in Fridge is back to 3", from the inverse change's fields. */
export function undoneText(item: string, inverse: Pick<StockChange, "location_name" | "quantity_after">): string {
  return t("undone", { item, location: inverse.location_name, quantity: inverse.quantity_after });
}

/** The journal row of a − / + tap whose answer did not name it: the newest
 * one at that place with that delta that left that count (not an undo). */
export function findChange(
  history: StockChange[], place: { location_name: string; delta: number; quantity_after: number },
): string | null {
  const found = history.find((change) =>
    !change.scan_id?.startsWith(UNDO_PREFIX) && change.location_name === place.location_name
    && change.delta === place.delta && change.quantity_after === place.quantity_after);
  return found?.id ?? null;
}
