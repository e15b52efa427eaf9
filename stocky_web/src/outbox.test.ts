import { describe, expect, it, vi } from "vitest";
import { ApiError, NetworkError } from "./api/client";
import { Outbox, type QueuedTick } from "./outbox";

class MemoryStorage implements Storage {
  private values = new Map<string, string>();
  get length() {
    return this.values.size;
  }
  clear() {
    this.values.clear();
  }
  getItem(key: string) {
    return this.values.get(key) ?? null;
  }
  key(index: number) {
    return [...this.values.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.values.delete(key);
  }
  setItem(key: string, value: string) {
    this.values.set(key, value);
  }
}

const tea = { itemId: "tea", name: "Black tea", inBasket: true };
const milk = { itemId: "milk", name: "Milk", inBasket: true };
const eggs = { itemId: "eggs", name: "Eggs", inBasket: true };

/** A Stocky that answers each tick as `answer` says, and records what it took. */
function stocky(answer: (tick: QueuedTick) => Error | null = () => null) {
  const took: string[] = [];
  const send = async (tick: QueuedTick) => {
    const error = answer(tick);
    if (error) throw error;
    took.push(`${tick.itemId}:${tick.inBasket}`);
  };
  return { took, send };
}

describe("the shopping trip's outbox", () => {
  it("keeps ticks across a reload, in the order they were made", () => {
    const storage = new MemoryStorage();
    const first = new Outbox(storage);
    first.tick(tea);
    first.tick(milk);
    const reloaded = new Outbox(storage);
    expect(reloaded.read().ticks.map((t) => t.itemId)).toEqual(["tea", "milk"]);
    expect(reloaded.waiting()).toEqual(new Map([["tea", true], ["milk", true]]));
  });

  it("takes back a tick tapped again before it was sent", () => {
    const box = new Outbox(new MemoryStorage());
    box.tick(tea);
    box.tick(milk);
    box.tick({ ...tea, inBasket: false });
    expect(box.read().ticks).toEqual([milk]);
  });

  it("sends every tick in order and empties the queue", async () => {
    const storage = new MemoryStorage();
    const box = new Outbox(storage);
    box.tick(tea);
    box.tick(milk);
    box.tick({ ...eggs, inBasket: false });
    const { took, send } = stocky();
    const sent: string[] = [];
    await box.send(send, (tick) => sent.push(tick.itemId));
    expect(took).toEqual(["tea:true", "milk:true", "eggs:false"]);
    expect(sent).toEqual(["tea", "milk", "eggs"]);
    expect(box.read().ticks).toEqual([]);
    expect(storage.length).toBe(0);
  });

  it("stops at a lost connection and keeps the rest for the next try", async () => {
    const box = new Outbox(new MemoryStorage());
    box.tick(tea);
    box.tick(milk);
    const offline = stocky((tick) => (tick.itemId === "milk" ? new NetworkError("network") : null));
    await box.send(offline.send);
    expect(offline.took).toEqual(["tea:true"]);
    expect(box.read().ticks).toEqual([milk]);
    expect(box.read().sending).toBe(false);

    const online = stocky();
    await box.send(online.send);
    expect(online.took).toEqual(["milk:true"]);
  });

  it("waits when Stocky says not now (busy, signed out), and keeps the order", async () => {
    const box = new Outbox(new MemoryStorage());
    box.tick(tea);
    box.tick(milk);
    const busy = stocky(() => new ApiError(503, "storage_busy", "Busy"));
    await box.send(busy.send);
    expect(box.read().ticks).toEqual([tea, milk]);
    expect(box.read().refused).toEqual([]);
  });

  it("keeps a refusal to show, and goes on with the next tick", async () => {
    const storage = new MemoryStorage();
    const box = new Outbox(storage);
    box.tick(tea);
    box.tick(milk);
    box.tick(eggs);
    const { took, send } = stocky((tick) => {
      if (tick.itemId === "tea") return new ApiError(409, "conflict", "Black tea is not on the shopping list");
      if (tick.itemId === "milk") return new ApiError(404, "not_found", "No item");
      return null;
    });
    await box.send(send);
    expect(took).toEqual(["eggs:true"]);
    expect(box.read().ticks).toEqual([]);
    const refused = new Outbox(storage).read().refused; // kept over a reload until read
    expect(refused.map((r) => [r.itemId, r.reason])).toEqual([["tea", "offList"], ["milk", "gone"]]);
    expect(refused[0].message).toBe("Black tea is not on the shopping list");
    box.dismiss();
    expect(box.read().refused).toEqual([]);
    expect(new Outbox(storage).read().refused).toEqual([]);
  });

  it("a tap on an item whose tick is on its way queues the new one after it", async () => {
    const box = new Outbox(new MemoryStorage());
    box.tick(tea);
    const answers: (() => void)[] = [];
    const took: boolean[] = [];
    const slow = (tick: QueuedTick) => new Promise<void>((resolve) => answers.push(() => {
      took.push(tick.inBasket);
      resolve();
    }));
    const sending = box.send(slow);
    await vi.waitFor(() => expect(answers).toHaveLength(1));
    expect(box.read().sending).toBe(true);
    box.tick({ ...tea, inBasket: false }); // changed her mind while the tick was in the air
    expect(box.read().ticks).toEqual([tea, { ...tea, inBasket: false }]);
    answers[0]();
    await vi.waitFor(() => expect(answers).toHaveLength(2));
    answers[1]();
    await sending;
    expect(took).toEqual([true, false]);
  });

  it("sends once when asked twice at the same time", async () => {
    const box = new Outbox(new MemoryStorage());
    box.tick(tea);
    const { took, send } = stocky();
    await Promise.all([box.send(send), box.send(send)]);
    expect(took).toEqual(["tea:true"]);
  });

  it("tells its listeners of every change, and forgets everything on sign-out", async () => {
    const box = new Outbox(new MemoryStorage());
    let heard = 0;
    const stop = box.subscribe(() => (heard += 1));
    box.tick(tea);
    expect(heard).toBe(1);
    const snapshot = box.read();
    expect(box.read()).toBe(snapshot); // stable until it changes (useSyncExternalStore)
    box.forget();
    expect(box.read().ticks).toEqual([]);
    expect(box.read()).not.toBe(snapshot);
    stop();
    box.tick(milk);
    expect(heard).toBe(2);
  });

  it("reads a damaged store as empty", () => {
    const storage = new MemoryStorage();
    storage.setItem("stocky.outbox", "{not json");
    expect(new Outbox(storage).read()).toEqual({ ticks: [], refused: [], sending: false });
  });
});
