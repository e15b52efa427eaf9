import { backoffDelay } from "./backoff";

export const CLOSE_UNAUTHORIZED = 4401;

export interface LiveMessage {
  action: string;
  [field: string]: unknown;
}

export interface LiveOptions {
  uiId: string;
  /** A bearer token for `identify_ui`, or null to listen anonymously. */
  token: () => Promise<string | null>;
  onMessage: (message: LiveMessage) => void;
  onOnline: (online: boolean) => void;
  /** Connected again after a gap: whatever happened meanwhile was missed. */
  onGap: () => void;
  /** Stocky closed the socket because this sign-in may no longer listen. */
  onRefused: () => void;
  url?: string;
}

/** One `/ws` connection that keeps itself open: it identifies this screen,
 * reconnects with back-off, and reports gaps so the caller can refetch. */
export class LiveSocket {
  private socket: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private everOpen = false;
  private token: string | null = null;

  constructor(private readonly options: LiveOptions) {}

  // A phone that loses its signal says so at once; a socket may take
  // minutes to notice. Offline: drop the socket (and show it); online again:
  // reconnect now rather than at the end of a back-off.
  private readonly wentOffline = () => {
    this.options.onOnline(false);
    this.socket?.close(1000);
  };
  private readonly cameOnline = () => {
    if (this.socket || this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.attempt = 0;
    void this.connect();
  };

  start(): void {
    this.stopped = false;
    addEventListener("offline", this.wentOffline);
    addEventListener("online", this.cameOnline);
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    removeEventListener("offline", this.wentOffline);
    removeEventListener("online", this.cameOnline);
    if (this.timer) clearTimeout(this.timer);
    this.socket?.close(1000);
    this.socket = null;
  }

  /** A fresh access token: the open socket identifies again with it, so
   * Stocky does not close it when the old token expires. */
  renew(token: string): void {
    this.token = token;
    if (this.socket?.readyState === WebSocket.OPEN) this.identify(this.socket);
  }

  private identify(socket: WebSocket): void {
    const token = this.token;
    socket.send(JSON.stringify({ action: "identify_ui", ui_id: this.options.uiId, ...(token ? { token } : {}) }));
  }

  private url(): string {
    if (this.options.url) return this.options.url;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/ws`;
  }

  private async connect(): Promise<void> {
    this.token = null;
    try {
      this.token = await this.options.token();
    } catch {
      // unreachable now: the socket fails too, and the back-off retries both
    }
    if (this.stopped) return;
    const socket = new WebSocket(this.url());
    this.socket = socket;
    let identified = false;
    socket.onopen = () => this.identify(socket);
    socket.onmessage = (event) => {
      let message: LiveMessage;
      try {
        message = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (message.action === "identified") {
        if (identified) return; // again, with a renewed token: no gap
        identified = true;
        const gap = this.everOpen;
        this.everOpen = true;
        this.attempt = 0;
        this.options.onOnline(true);
        if (gap) this.options.onGap();
        return;
      }
      this.options.onMessage(message);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.options.onOnline(false);
      if (this.stopped) return;
      if (event.code === CLOSE_UNAUTHORIZED) this.options.onRefused();
      this.timer = setTimeout(() => void this.connect(), backoffDelay(this.attempt++));
    };
  }
}
