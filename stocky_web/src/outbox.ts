// Ticks of the shopping trip that Stocky has not had yet (DESIGN.md section
// 16): kept on the phone, so a tick made with no signal survives a reload,
// shown ticked and marked "not sent yet", and sent in the order they were
// made once Stocky answers again. A tick Stocky refuses (the item left the
// list meanwhile, or was deleted) is kept as a refusal until the person has
// read it: nothing is dropped silently.
import { ApiError, NetworkError } from "./api/client";

export interface QueuedTick {
  itemId: string;
  name: string;
  inBasket: boolean;
}

export interface RefusedTick extends QueuedTick {
  /** offList: stock arrived, so it is not on the list to tick; gone: deleted. */
  reason: "offList" | "gone" | "other";
  message: string;
}

export interface Kept {
  ticks: QueuedTick[];
  refused: RefusedTick[];
  /** The first tick is on its way to Stocky now. */
  sending: boolean;
}

const KEY = "stocky.outbox";
// Answers that mean "not now" rather than "no": the tick waits for the next try.
const LATER = new Set([401, 408, 429, 502, 503, 504]);

function reasonOf(error: ApiError): RefusedTick["reason"] {
  if (error.status === 409) return "offList";
  return error.status === 404 ? "gone" : "other";
}

export class Outbox {
  private kept: Kept | null = null;
  private sending = false;
  private running: Promise<void> | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly storage: Storage) {}

  /** What is waiting and what was refused; the same object until it changes. */
  read(): Kept {
    if (!this.kept) {
      let stored: Partial<Kept> = {};
      try {
        stored = JSON.parse(this.storage.getItem(KEY) ?? "{}") ?? {};
      } catch {
        // unreadable: nothing kept
      }
      this.kept = {
        ticks: Array.isArray(stored.ticks) ? stored.ticks : [],
        refused: Array.isArray(stored.refused) ? stored.refused : [],
        sending: this.sending,
      };
    }
    return this.kept;
  }

  private write(ticks: QueuedTick[], refused: RefusedTick[]): void {
    try {
      if (ticks.length || refused.length) this.storage.setItem(KEY, JSON.stringify({ ticks, refused }));
      else this.storage.removeItem(KEY);
    } catch {
      // storage full or refused: kept in memory for this page at least
    }
    this.kept = { ticks, refused, sending: this.sending };
    this.changed();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  /** A tap on an item's box. Tapping again an item whose tick has not left
   * yet takes that tick back (Stocky still has what it had before it);
   * otherwise the tick joins the end of the queue. */
  tick(tick: QueuedTick): void {
    const { ticks, refused } = this.read();
    const last = ticks.map((t) => t.itemId).lastIndexOf(tick.itemId);
    const onItsWay = last === 0 && this.sending;
    if (last >= 0 && !onItsWay && ticks[last].inBasket !== tick.inBasket) {
      this.write(ticks.filter((_, i) => i !== last), refused);
    } else {
      this.write([...ticks, tick], refused);
    }
  }

  /** Whether each item waiting is in the basket, as the person last ticked it. */
  waiting(): Map<string, boolean> {
    return new Map(this.read().ticks.map((t) => [t.itemId, t.inBasket]));
  }

  /** Send the queue in order with `send`, one tick at a time, until it is
   * empty or Stocky cannot be reached (the rest waits for the next call).
   * `onSent` hears of each tick Stocky took. Calls made meanwhile join this one. */
  send(send: (tick: QueuedTick) => Promise<void>, onSent: (tick: QueuedTick) => void = () => undefined): Promise<void> {
    this.running ??= this.locked(() => this.drain(send, onSent)).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Tabs of one browser take turns, each reading the queue afresh. */
  private locked(work: () => Promise<void>): Promise<void> {
    const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
    if (!locks) return work();
    const granted: Promise<unknown> = locks.request("stocky-outbox", () => {
      this.kept = null;
      return work();
    });
    return granted.then(() => undefined);
  }

  private async drain(send: (tick: QueuedTick) => Promise<void>, onSent: (tick: QueuedTick) => void): Promise<void> {
    for (;;) {
      const first = this.read().ticks[0];
      if (!first) return;
      this.setSending(true);
      let refusal: RefusedTick | null = null;
      try {
        await send(first);
      } catch (error) {
        if (error instanceof NetworkError || !(error instanceof ApiError) || LATER.has(error.status)) {
          this.setSending(false);
          return;
        }
        refusal = { ...first, reason: reasonOf(error), message: error.message };
      }
      this.sending = false;
      const { ticks, refused } = this.read();
      this.write(ticks.slice(1), refusal ? [...refused, refusal] : refused);
      if (!refusal) onSent(first);
    }
  }

  private setSending(sending: boolean): void {
    this.sending = sending;
    this.kept = { ...this.read(), sending };
    this.changed();
  }

  /** The refusals have been read. */
  dismiss(): void {
    this.write(this.read().ticks, []);
  }

  /** Signing out: this phone's ticks are not the next person's. */
  forget(): void {
    this.write([], []);
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Another tab changed the queue. */
  reload(): void {
    this.kept = null;
    this.changed();
  }
}

export const outbox = new Outbox(typeof localStorage === "undefined" ? (undefined as unknown as Storage) : localStorage);
if (typeof addEventListener === "function") {
  addEventListener("storage", (event) => event.key === KEY && outbox.reload());
}
