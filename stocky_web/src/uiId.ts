const KEY = "stocky.ui_id";

/** A random version-4 UUID; crypto.randomUUID exists only on HTTPS. */
export function newUuid(random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)): string {
  const bytes = random(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** This browser's screen id: the same across reloads, so a linked scanner
 * stays linked. It names a screen, it is not a secret. */
export function uiId(storage: Storage = localStorage): string {
  let id = storage.getItem(KEY);
  if (!id || !/^[0-9a-f-]{36}$/.test(id)) {
    id = newUuid();
    storage.setItem(KEY, id);
  }
  return id;
}
