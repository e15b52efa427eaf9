import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

// Stocky's answers, as fetch would give them: the network is what cannot
// run in a unit test (the browser tests in tests/web use the real server).
function answer(status: number, body?: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status, headers: { "Content-Type": "application/json" },
  });
}

let client: typeof import("./client");
let calls: string[];

beforeEach(async () => {
  vi.resetModules();
  calls = [];
  client = await import("./client");
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

function stubFetch(reply: (path: string, init: RequestInit) => Response | Promise<Response>) {
  vi.stubGlobal("fetch", vi.fn(async (path: string, init: RequestInit) => {
    calls.push(`${init.method} ${path}`);
    return reply(path, init);
  }));
}

describe("the access token", () => {
  it("is renewed once for many callers at the same moment", async () => {
    stubFetch(() => answer(200, { access_token: "a.b.c", expires_in: 600 }));
    const tokens = await Promise.all([client.currentToken(), client.currentToken(), client.currentToken()]);
    expect(tokens).toEqual(["a.b.c", "a.b.c", "a.b.c"]);
    expect(calls).toEqual(["POST /api/v1/auth/refresh"]);
  });

  it("is sent as a bearer header, and bodies as JSON", async () => {
    const seen: RequestInit[] = [];
    stubFetch((path, init) => {
      seen.push(init);
      return path.endsWith("/refresh") ? answer(200, { access_token: "tok", expires_in: 600 }) : answer(200, { ok: 1 });
    });
    await client.api("POST", "/sku/1/adjust", { delta: 1 });
    const headers = seen[1].headers as Record<string, string>;
    expect(headers.Authorization).toBe("Bearer tok");
    expect(headers["Content-Type"]).toBe("application/json");
    expect(seen[1].body).toBe('{"delta":1}');
    expect(calls[1]).toBe("POST /api/v1/sku/1/adjust");
  });

  it("a 401 the refresh cookie cannot mend ends the session", async () => {
    let refreshes = 0;
    stubFetch((path) => {
      if (path.endsWith("/refresh")) return ++refreshes === 1 ? answer(200, { access_token: "old", expires_in: 600 }) : answer(401);
      return answer(401, { error: { code: "not_authenticated", message: "no" } });
    });
    const ended = vi.fn();
    client.onSessionEnded(ended);
    await expect(client.api("GET", "/item")).rejects.toMatchObject({ status: 401 });
    expect(ended).toHaveBeenCalledWith("sessionEnded");
  });

  it("a conflict keeps Stocky's message for the person who acted", async () => {
    stubFetch((path) => path.endsWith("/refresh")
      ? answer(200, { access_token: "t", expires_in: 600 })
      : answer(409, { error: { code: "conflict", message: "Pantry still holds 3 things." } }));
    await expect(client.api("DELETE", "/location/1")).rejects.toMatchObject({
      status: 409, code: "conflict", message: "Pantry still holds 3 things.",
    });
  });

  it("is renewed at half its life, and each new one is announced", async () => {
    vi.useFakeTimers();
    let issued = 0;
    stubFetch(() => answer(200, { access_token: `t${++issued}`, expires_in: 60 }));
    const announced: string[] = [];
    client.onTokenRenewed((token) => announced.push(token));
    await client.currentToken();
    await vi.advanceTimersByTimeAsync(29_000);
    expect(announced).toEqual(["t1"]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(announced).toEqual(["t1", "t2"]);
    expect(await client.currentToken()).toBe("t2");
    vi.useRealTimers();
  });

  it("a wrong current password is said, and does not sign out", async () => {
    stubFetch((path) => path.endsWith("/refresh")
      ? answer(200, { access_token: "t", expires_in: 600 })
      : answer(401, { error: { code: "not_authenticated", message: "The current password is not right." } }));
    const ended = vi.fn();
    client.onSessionEnded(ended);
    await expect(client.changePassword("wrong", "a-New-Secret-2")).rejects.toMatchObject({
      status: 401, message: "The current password is not right.",
    });
    expect(ended).not.toHaveBeenCalled();
  });

  it("a new password carries on with the token in its answer", async () => {
    stubFetch((path) => answer(200, { access_token: path.endsWith("/refresh") ? "old" : "new", expires_in: 600 }));
    const announced: string[] = [];
    client.onTokenRenewed((token) => announced.push(token));
    await client.changePassword("a-Member-Secret-1", "a-New-Secret-2");
    expect(calls).toEqual(["POST /api/v1/auth/refresh", "PUT /api/v1/user/me/password"]);
    expect(announced).toEqual(["old", "new"]);
    expect(await client.currentToken()).toBe("new");
  });

  it("signing out everywhere says so, and the refused refresh of this page's closed socket does not say otherwise", async () => {
    stubFetch((path) => path.endsWith("/refresh") ? answer(200, { access_token: "t", expires_in: 600 }) : answer(204));
    await client.currentToken();
    const ended = vi.fn();
    client.onSessionEnded(ended);
    await client.signOutEverywhere();
    expect(calls[1]).toBe("POST /api/v1/auth/logout");
    client.sessionEnded();
    expect(ended.mock.calls).toEqual([["signedOutEverywhere"]]);
  });

  it("no answer at all is a network error, not a sign-out", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => { throw new TypeError("Failed to fetch"); }));
    await expect(client.refresh()).rejects.toBeInstanceOf(client.NetworkError);
  });
});
