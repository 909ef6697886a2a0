import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ServerMessage } from "@thinkscope/protocol";
import {
  mergeEventBatches,
  RunSocket,
  socketUrl,
  type SocketLike,
  type SocketStatus,
} from "../src/lib/run-socket.ts";
import { EventScript } from "./fixtures.ts";

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: string[] = [];
  onopen: ((event: Event) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }
  drop() {
    this.readyState = 3;
    this.onclose?.({} as CloseEvent);
  }
  receive(message: ServerMessage) {
    this.onmessage?.({ data: JSON.stringify(message) } as MessageEvent);
  }
}

function setup() {
  const sockets: FakeSocket[] = [];
  const statuses: SocketStatus[] = [];
  const received: ServerMessage[] = [];
  const flushes: (() => void)[] = [];
  const onDisconnect = vi.fn();
  const client = new RunSocket({
    url: "ws://host/ws",
    createSocket: () => {
      const socket = new FakeSocket();
      sockets.push(socket);
      return socket;
    },
    onMessage: (m) => received.push(m),
    onStatus: (s) => statuses.push(s),
    onDisconnect,
    scheduleFlush: (flush) => flushes.push(flush),
    random: () => 0.5, // no jitter
  });
  return { client, sockets, statuses, received, flushes, onDisconnect };
}

describe("the page's WebSocket", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("reconnects with exponential backoff, capped, and resets after a success", () => {
    const { client, sockets, statuses } = setup();
    client.start();
    expect(statuses.at(-1)?.state).toBe("connecting");
    const delays: (number | null)[] = [];
    for (let i = 0; i < 7; i += 1) {
      sockets.at(-1)!.drop();
      delays.push(statuses.at(-1)!.retryInMs);
      vi.advanceTimersByTime(statuses.at(-1)!.retryInMs!);
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000]);
    expect(sockets).toHaveLength(8);
    sockets.at(-1)!.open();
    expect(statuses.at(-1)).toEqual({ state: "open", attempt: 0, retryInMs: null });
    sockets.at(-1)!.drop();
    expect(statuses.at(-1)?.retryInMs).toBe(500);
    client.stop();
  });

  it("retries at once when asked, and not after stop()", () => {
    const { client, sockets } = setup();
    client.start();
    sockets[0]!.drop();
    client.retryNow();
    expect(sockets).toHaveLength(2);
    client.stop();
    sockets[1]!.drop();
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(2);
  });

  it("sends only while open", () => {
    const { client, sockets } = setup();
    client.start();
    expect(client.send({ type: "abort", key: "k" })).toBe(false);
    sockets[0]!.open();
    expect(client.send({ type: "abort", key: "k" })).toBe(true);
    expect(sockets[0]!.sent).toEqual(['{"type":"abort","key":"k"}']);
  });

  it("merges the event batches that arrive within one frame, keeping the order of everything else", () => {
    const { client, sockets, received, flushes } = setup();
    client.start();
    sockets[0]!.open();
    const [a, b, c] = new EventScript().think("a").think("b").think("c").events.slice(1);
    sockets[0]!.receive({ type: "run.accepted", key: "k", runId: "r" });
    sockets[0]!.receive({ type: "events", items: [{ key: "k", runId: "r", event: a! }] });
    sockets[0]!.receive({ type: "events", items: [{ key: "k", runId: "r", event: b! }] });
    sockets[0]!.receive({ type: "events", items: [{ key: "k", runId: "r", event: c! }] });
    expect(received).toEqual([]);
    expect(flushes).toHaveLength(1);
    flushes[0]!();
    expect(received.map((m) => m.type)).toEqual(["run.accepted", "events"]);
    expect(
      (received[1] as Extract<ServerMessage, { type: "events" }>).items.map((i) => i.event),
    ).toEqual([a, b, c]);
  });

  it("delivers what arrived before reporting a lost connection", () => {
    const { client, sockets, received, onDisconnect } = setup();
    client.start();
    sockets[0]!.open();
    sockets[0]!.receive({ type: "run.accepted", key: "k", runId: "r" });
    onDisconnect.mockImplementation(() => expect(received).toHaveLength(1));
    sockets[0]!.drop();
    expect(onDisconnect).toHaveBeenCalledTimes(1);
    // A connection that never opened is not a lost connection.
    vi.advanceTimersByTime(1000);
    sockets.at(-1)!.drop();
    expect(onDisconnect).toHaveBeenCalledTimes(1);
  });
});

describe("helpers", () => {
  it("merges only adjacent event batches", () => {
    const event = new EventScript().think("x").events[1]!;
    const batch = (key: string): ServerMessage => ({
      type: "events",
      items: [{ key, runId: "r", event }],
    });
    const merged = mergeEventBatches([
      batch("a"),
      batch("b"),
      { type: "run.accepted", key: "c", runId: "r" },
      batch("c"),
    ]);
    expect(
      merged.map((m) => (m.type === "events" ? m.items.map((i) => i.key).join("") : m.type)),
    ).toEqual(["ab", "run.accepted", "c"]);
  });

  it("builds the socket URL from the page's location", () => {
    expect(socketUrl({ protocol: "http:", host: "localhost:5173" })).toBe("ws://localhost:5173/ws");
    expect(socketUrl({ protocol: "https:", host: "demo.example" })).toBe("wss://demo.example/ws");
  });
});
