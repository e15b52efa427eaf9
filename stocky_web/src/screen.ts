import { newUuid, uiId } from "./uiId";

// Stocky lets one connection at a time speak for a screen id. All tabs of a
// browser share its stable id, so they take turns through a Web Lock: the
// tab holding it is this browser's screen (linked scanners' banners and
// view cards go there); the others listen with an id of their own, and the
// next in line takes over when the holder closes.
const TAB_KEY = "stocky.tab_id";
const LOCK = "stocky-screen";

let owner = false;
let asked = false;
const listeners = new Set<() => void>();

function tabId(): string {
  let id = sessionStorage.getItem(TAB_KEY);
  if (!id) {
    id = newUuid();
    sessionStorage.setItem(TAB_KEY, id);
  }
  return id;
}

function locks(): LockManager | undefined {
  return typeof navigator !== "undefined" ? navigator.locks : undefined;
}

/** The id this tab identifies with on /ws. */
export function screenId(): string {
  return owner || !locks() ? uiId() : tabId();
}

/** Call `listener` when this tab becomes the browser's screen. */
export function onBecomingScreen(listener: () => void): () => void {
  listeners.add(listener);
  const manager = locks();
  if (!asked && manager) {
    asked = true;
    void manager.request(LOCK, () => {
      owner = true;
      for (const notify of listeners) notify();
      return new Promise<never>(() => undefined); // held until the tab closes
    });
  }
  return () => listeners.delete(listener);
}
