import type { ShoppingItem } from "./api/types";

// The last shopping list, so it still reads in a shop with no signal. It is
// inventory data, never a credential; signing out removes it.
const KEY = "stocky.shopping";

/** An item as kept: a list saved before the trip had no amounts or ticks. */
export type SavedItem = Pick<ShoppingItem, "id" | "name" | "upc"> & Partial<Pick<ShoppingItem, "to_buy" | "in_basket">>;

export interface SavedList {
  savedAt: string;
  items: SavedItem[];
  /** Whoever kept it may tick items off: offline too, kept on the phone. */
  canTick?: boolean;
}

export function saveShopping(items: SavedItem[], canTick = false, storage: Storage = localStorage, now = new Date()): void {
  const saved: SavedList = {
    savedAt: now.toISOString(),
    items: items.map(({ id, name, upc, to_buy, in_basket }) => ({ id, name, upc, to_buy, in_basket })),
    canTick,
  };
  try {
    storage.setItem(KEY, JSON.stringify(saved));
  } catch {
    // storage full or refused: the list is only a convenience
  }
}

export function loadShopping(storage: Storage = localStorage): SavedList | null {
  try {
    const saved = JSON.parse(storage.getItem(KEY) ?? "null");
    return saved && Array.isArray(saved.items) ? saved : null;
  } catch {
    return null;
  }
}

export function forgetShopping(storage: Storage = localStorage): void {
  storage.removeItem(KEY);
}
