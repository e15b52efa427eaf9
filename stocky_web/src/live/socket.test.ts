import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LiveSocket } from "./socket";

// A stand-in for the browser's WebSocket that the test drives by hand.
class FakeSocket {
  static readonly OPEN = 1;
  static made: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.made.push(this);
  }
  send(data: string) { this.sent.push(data); }
  close() {}
  open() {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.();
  }
  receive(message: object) { this.onmessage?.({ data: JSON.stringify(message) }); }
  drop(code = 1006) { this.onclose?.({ code }); }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

beforeEach(() => {
  FakeSocket.made = [];
  vi.stubGlobal("WebSocket", FakeSocket);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

function live(overrides = {}) {
  const calls = { online: [] as boolean[], gaps: 0, refused: 0, messages: [] as unknown[] };
  const socket = new LiveSocket({
    uiId: "ui-1", url: "ws://stocky/ws", token: async () => "tok",
    onOnline: (online) => calls.online.push(online), onGap: () => calls.gaps++,
    onRefused: () => calls.refused++, onMessage: (m) => calls.messages.push(m), ...overrides,
  });
  return { socket, calls };
}

describe("the live connection", () => {
  it("identifies this screen with its token in the message, not the address", async () => {
    const { socket } = live();
    socket.start();
    await tick();
    FakeSocket.made[0].open();
    expect(FakeSocket.made[0].url).toBe("ws://stocky/ws");
    expect(JSON.parse(FakeSocket.made[0].sent[0])).toEqual({ action: "identify_ui", ui_id: "ui-1", token: "tok" });
  });

  it("reconnects after a drop and reports the gap, so the caller refetches", async () => {
    vi.useFakeTimers();
    const { socket, calls } = live();
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.made[0].receive({ action: "identified" });
    expect(calls.gaps).toBe(0);
    FakeSocket.made[0].drop();
    expect(calls.online).toEqual([true, false]);
    await vi.advanceTimersByTimeAsync(600);
    expect(FakeSocket.made).toHaveLength(2);
    FakeSocket.made[1].receive({ action: "identified" });
    expect(calls.gaps).toBe(1);
    FakeSocket.made[1].receive({ action: "changed", entity: "sku", id: "1", op: "updated" });
    expect(calls.messages).toEqual([{ action: "changed", entity: "sku", id: "1", op: "updated" }]);
    socket.stop();
  });

  it("after a refusal (4401) tells the caller, then connects again with the token it has then", async () => {
    vi.useFakeTimers();
    let token = "old";
    const { socket, calls } = live({ token: async () => token });
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.made[0].open();
    FakeSocket.made[0].receive({ action: "identified" });
    FakeSocket.made[0].drop(4401);
    expect(calls.refused).toBe(1);
    token = "renewed"; // what the caller's refresh got
    await vi.advanceTimersByTimeAsync(600);
    expect(FakeSocket.made).toHaveLength(2);
    FakeSocket.made[1].open();
    expect(JSON.parse(FakeSocket.made[1].sent[0]).token).toBe("renewed");
    socket.stop();
  });

  it("identifies again on the open socket with each renewed token, with no gap", async () => {
    const { socket, calls } = live();
    socket.start();
    await tick();
    const open = FakeSocket.made[0];
    open.open();
    open.receive({ action: "identified" });
    socket.renew("fresh");
    expect(open.sent.map((frame) => JSON.parse(frame))).toEqual([
      { action: "identify_ui", ui_id: "ui-1", token: "tok" },
      { action: "identify_ui", ui_id: "ui-1", token: "fresh" },
    ]);
    open.receive({ action: "identified" });
    expect(calls.gaps).toBe(0); // the same connection: nothing was missed
    expect(FakeSocket.made).toHaveLength(1);
    socket.stop();
  });

  it("a token renewed while connecting is the one it identifies with", async () => {
    const { socket } = live();
    socket.start();
    await tick();
    socket.renew("fresh"); // not open yet: nothing sent
    expect(FakeSocket.made[0].sent).toEqual([]);
    FakeSocket.made[0].open();
    expect(JSON.parse(FakeSocket.made[0].sent[0]).token).toBe("fresh");
    socket.stop();
  });
});
