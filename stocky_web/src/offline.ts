import type { Item } from "./api/types";

// The last shopping list, so it still reads in a shop with no signal. It is
// inventory data, never a credential; signing out removes it.
const KEY = "stocky.shopping";

export interface SavedList {
  savedAt: string;
  items: Pick<Item, "id" | "name" | "upc">[];
}

export function saveShopping(items: Item[], storage: Storage = localStorage, now = new Date()): void {
  const saved: SavedList = {
    savedAt: now.toISOString(),
    items: items.map(({ id, name, upc }) => ({ id, name, upc })),
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
