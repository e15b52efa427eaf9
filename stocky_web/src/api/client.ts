// Talking to Stocky: the access token lives in this module's memory only
// (never in storage, never in an address); the refresh token is an HttpOnly
// cookie the page cannot read. Every request states its JSON body's type.
import type { MessageKey } from "../i18n";

const PREFIX = "/api/v1";
const EARLY_REFRESH_MS = 30_000;

/** A field an error answer names: the request's name for it, and why. */
export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldError[] = [],
    /** What a conflict is about: the item that has a barcode already. */
    readonly id: string | null = null,
  ) {
    super(message);
  }
}

/** Stocky could not be reached at all (no answer, not an error answer). */
export class NetworkError extends Error {}

interface TokenAnswer {
  access_token: string;
  expires_in: number;
}

let accessToken: string | null = null;
let expiresAt = 0;
let refreshing: Promise<string | null> | null = null;
let renewal: ReturnType<typeof setTimeout> | null = null;
let ends = 0; // sessions ended so far: a renewal answered after an end is not kept
const endListeners = new Set<(reason: MessageKey) => void>();
const tokenListeners = new Set<(token: string) => void>();
const channel = typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel("stocky-session");
// Another tab of this browser signed out: the shared cookie is gone, so this
// tab is signed out too, and says how.
const SIGN_OUTS: MessageKey[] = ["signedOut", "signedOutEverywhere"];
channel?.addEventListener("message", (event) => {
  if (SIGN_OUTS.includes(event.data)) endSession(event.data, false);
});

export function onSessionEnded(listener: (reason: MessageKey) => void): () => void {
  endListeners.add(listener);
  return () => endListeners.delete(listener);
}

/** Every new access token (a renewal, a new password): the live socket
 * identifies again with it before the old one expires. */
export function onTokenRenewed(listener: (token: string) => void): () => void {
  tokenListeners.add(listener);
  return () => tokenListeners.delete(listener);
}

function endSession(reason: MessageKey, tellOtherTabs: boolean): void {
  ends += 1;
  accessToken = null;
  expiresAt = 0;
  if (renewal) clearTimeout(renewal);
  renewal = null;
  if (tellOtherTabs) channel?.postMessage(reason);
  for (const listener of endListeners) listener(reason);
}

async function send(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(PREFIX + path, { credentials: "same-origin", cache: "no-store", ...init });
  } catch {
    throw new NetworkError("network");
  }
}

function jsonInit(method: string, body: unknown, token?: string | null): RequestInit {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const init: RequestInit = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return init;
}

async function errorOf(response: Response): Promise<ApiError> {
  let code = "error";
  let message = response.statusText || `HTTP ${response.status}`;
  let fields: FieldError[] = [];
  let id: string | null = null;
  try {
    const data = await response.json();
    const error = data?.error ?? {};
    code = String(error.code ?? code);
    message = String(error.message ?? message);
    if (Array.isArray(error.fields)) {
      fields = error.fields.map((f: Partial<FieldError>) => ({ field: String(f.field ?? ""), message: String(f.message ?? "") }));
    }
    if (typeof error.id === "string") id = error.id;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, code, message, fields, id);
}

function keep(answer: TokenAnswer): string {
  const token = (accessToken = answer.access_token);
  expiresAt = Date.now() + answer.expires_in * 1000;
  // Renewed at half its life, not at the last moment: a background tab's
  // timers may run a minute late, and the socket must not outlive its token.
  if (renewal) clearTimeout(renewal);
  renewal = setTimeout(() => void refresh().then((fresh) => fresh || sessionEnded(), () => undefined),
    (answer.expires_in * 1000) / 2);
  for (const listener of tokenListeners) listener(token);
  return token;
}

export async function signIn(username: string, password: string): Promise<void> {
  const response = await send("/auth/session", jsonInit("POST", { username, password }));
  if (!response.ok) throw await errorOf(response);
  keep(await response.json());
}

async function refreshNow(): Promise<string | null> {
  const asked = ends;
  const response = await send("/auth/refresh", jsonInit("POST", {}));
  if (response.status === 401) return null;
  if (!response.ok) throw await errorOf(response);
  const answer: TokenAnswer = await response.json();
  return asked === ends ? keep(answer) : null;
}

/** A new access token from the refresh cookie, or null once the sign-in
 * has ended. Tabs take turns (the cookie is replaced at every use). */
export function refresh(): Promise<string | null> {
  if (!refreshing) {
    const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
    const run: Promise<string | null> = locks
      ? locks.request("stocky-refresh", () => refreshNow()).then((token) => token)
      : refreshNow();
    refreshing = run.finally(() => {
      refreshing = null;
    });
  }
  return refreshing as Promise<string | null>;
}

/** A token good for the next half minute, renewing it first if needed. */
export async function currentToken(): Promise<string | null> {
  if (accessToken && Date.now() < expiresAt - EARLY_REFRESH_MS) return accessToken;
  return refresh();
}

export async function signOut(): Promise<void> {
  try {
    await send("/auth/logout", jsonInit("POST", {}));
  } finally {
    endSession("signedOut", true);
  }
}

/** Every sign-in of this account ends: browsers, tokens and sockets. Not
 * signed out here until Stocky has said so, or the others would go on. */
export async function signOutEverywhere(): Promise<void> {
  const response = await send("/auth/logout", jsonInit("POST", { everywhere: true }, accessToken));
  if (!response.ok) throw await errorOf(response);
  endSession("signedOutEverywhere", true);
}

/** A new password; the answer's token carries on this sign-in (every other
 * one has ended). A 401 here is a wrong current password, not a sign-out. */
export async function changePassword(currentPassword: string, newPassword: string): Promise<void> {
  const body = { current_password: currentPassword, new_password: newPassword };
  const response = await send("/user/me/password", jsonInit("PUT", body, await currentToken()));
  if (!response.ok) throw await errorOf(response);
  keep(await response.json());
}

/** The session is over (a 401 the refresh cookie cannot mend), unless it
 * ended already: then a sign-out's own words stay on the screen (signing
 * out closes this page's socket too, and its refresh is refused). */
export function sessionEnded(): void {
  if (accessToken !== null) endSession("sessionEnded", false);
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  let token = await currentToken();
  let response = token ? await send(path, jsonInit(method, body, token)) : null;
  if (!response || response.status === 401) {
    token = response ? await refresh() : null;
    response = token ? await send(path, jsonInit(method, body, token)) : null;
    if (!response || response.status === 401) {
      sessionEnded();
      throw new ApiError(401, "not_authenticated", "");
    }
  }
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return undefined as T;
  const type = response.headers.get("Content-Type") ?? "";
  return (type.includes("json") ? await response.json() : await response.text()) as T;
}

/** An image (a QR code) as an object URL; the caller revokes it. */
export async function imageUrl(method: string, path: string, body?: unknown): Promise<string> {
  const token = await currentToken();
  const response = await send(path, jsonInit(method, body, token));
  if (!response.ok) throw await errorOf(response);
  return URL.createObjectURL(await response.blob());
}
