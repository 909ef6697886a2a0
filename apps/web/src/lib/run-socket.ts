import type { ClientMessage, ServerMessage } from "@thinkscope/protocol";

export type SocketState = "connecting" | "open" | "reconnecting" | "stopped";

export interface SocketStatus {
  state: SocketState;
  /** Failed connection attempts in a row. */
  attempt: number;
  /** When reconnecting: milliseconds until the next attempt. */
  retryInMs: number | null;
}

/** The parts of `WebSocket` this client uses, so tests can hand in a fake. */
export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: Event) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
}

export interface RunSocketOptions {
  url: string;
  /** Messages in order. Consecutive `events` messages that arrived within one frame come merged. */
  onMessage(message: ServerMessage): void;
  onStatus(status: SocketStatus): void;
  /** Called once each time an open connection is lost. */
  onDisconnect?(): void;
  createSocket?(url: string): SocketLike;
  /** Defer the delivery of received messages (default: the next animation frame, at most 100 ms). */
  scheduleFlush?(flush: () => void): void;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  random?(): number;
}

const OPEN = 1;

/**
 * The page's WebSocket to `/ws`: reconnects with exponential backoff and
 * jitter, and coalesces what arrives within one frame.
 *
 * The server already flushes events about every 50 ms; if the page falls
 * behind (a slow machine, a busy tab), several batches queue up and are
 * merged here into one store update, so the page does less work exactly when
 * it has less time.
 */
export class RunSocket {
  private socket: SocketLike | null = null;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = true;
  private pending: ServerMessage[] = [];
  private flushScheduled = false;
  private readonly options: Required<Omit<RunSocketOptions, "onDisconnect">> &
    Pick<RunSocketOptions, "onDisconnect">;

  constructor(options: RunSocketOptions) {
    this.options = {
      createSocket: (url) => new WebSocket(url),
      scheduleFlush: defaultScheduleFlush,
      initialBackoffMs: 500,
      maxBackoffMs: 15_000,
      random: Math.random,
      ...options,
    };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearRetry();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.close(1000, "page closed");
    }
    this.options.onStatus({ state: "stopped", attempt: 0, retryInMs: null });
  }

  get isOpen(): boolean {
    return this.socket?.readyState === OPEN;
  }

  /** Sends when connected; returns false (and sends nothing) otherwise. */
  send(message: ClientMessage): boolean {
    if (!this.socket || this.socket.readyState !== OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  /** Skip the rest of the backoff (the user pressed "retry", or the browser came back online). */
  retryNow(): void {
    if (this.stopped || this.socket) return;
    this.clearRetry();
    this.connect();
  }

  /** Wait after `attempt` failures: 0.5 s, 1 s, 2 s ... up to the maximum, each +-25% so tabs do not retry in step. */
  backoffMs(attempt: number): number {
    const { initialBackoffMs, maxBackoffMs, random } = this.options;
    const base = Math.min(maxBackoffMs, initialBackoffMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(base * (0.75 + random() * 0.5));
  }

  private connect(): void {
    this.options.onStatus({
      state: this.attempt === 0 ? "connecting" : "reconnecting",
      attempt: this.attempt,
      retryInMs: null,
    });
    let socket: SocketLike;
    try {
      socket = this.options.createSocket(this.options.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.attempt = 0;
      this.options.onStatus({ state: "open", attempt: 0, retryInMs: null });
    };
    socket.onmessage = (event) => {
      if (typeof event.data !== "string") return;
      let message: ServerMessage;
      try {
        message = JSON.parse(event.data) as ServerMessage;
      } catch {
        return; // Not ours to show: the server only sends JSON.
      }
      this.enqueue(message);
    };
    socket.onerror = () => {
      // A close event always follows; reconnecting is handled there.
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      // Deliver what had arrived before telling the store the connection is gone.
      this.flush();
      if (opened) this.options.onDisconnect?.();
      if (!this.stopped) this.scheduleRetry();
    };
  }

  private scheduleRetry(): void {
    this.attempt += 1;
    const delay = this.backoffMs(this.attempt);
    this.options.onStatus({ state: "reconnecting", attempt: this.attempt, retryInMs: delay });
    this.clearRetry();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) this.connect();
    }, delay);
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private enqueue(message: ServerMessage): void {
    this.pending.push(message);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.options.scheduleFlush(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const messages = mergeEventBatches(this.pending);
    this.pending = [];
    for (const message of messages) this.options.onMessage(message);
  }
}

/** Adjacent `events` messages become one; everything else keeps its place in the order. */
export function mergeEventBatches(messages: readonly ServerMessage[]): ServerMessage[] {
  const merged: ServerMessage[] = [];
  for (const message of messages) {
    const last = merged.at(-1);
    if (message.type === "events" && last?.type === "events") {
      merged[merged.length - 1] = { type: "events", items: [...last.items, ...message.items] };
    } else {
      merged.push(message);
    }
  }
  return merged;
}

/** The next animation frame, or 100 ms when frames are paused (a hidden tab). */
function defaultScheduleFlush(flush: () => void): void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    flush();
  };
  if (typeof requestAnimationFrame === "function") requestAnimationFrame(once);
  setTimeout(once, 100);
}

/** `/ws` on the page's own host, over TLS when the page is. */
export function socketUrl(location: Pick<Location, "protocol" | "host">): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
}
