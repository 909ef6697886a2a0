/**
 * The page's WebSocket: runs in, batched events out, errors as messages on a
 * connection that stays open, aborts, and the origin check.
 */
import type { EngineEvent } from "@thinkscope/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScriptPerRun, WsClient, buildTestApp, listen, waitFor, type TestApp } from "./helpers.ts";

const thinker = new ScriptPerRun("thinker", {
  replies: ["Let me think.</think>", " Check again.</think>", "The answer is 42."],
});
const LONG_THOUGHT = "x".repeat(300);
/** About 300 tokens at 1 ms each: fast enough to flood a page that got one message per token. */
const fast = new ScriptPerRun("fast", {
  replies: [LONG_THOUGHT + "</think>", "done"],
  chunkDelayMs: 1,
});
const slow = new ScriptPerRun("slow", {
  replies: ["y".repeat(2000) + "</think>", "late"],
  chunkDelayMs: 20,
});

let server: TestApp;
let base: string;

beforeAll(async () => {
  server = await buildTestApp({
    backends: [thinker, fast, slow],
    config: { allowedOrigins: ["http://localhost:5173"] },
  });
  base = await listen(server.app);
});
afterAll(() => server.close());

/** The continuation as the events tell it: every delta and injection, in order. */
function textOf(events: EngineEvent[]): string {
  return events.map((e) => (e.type === "delta" || e.type === "injection" ? e.text : "")).join("");
}

describe("runs over the WebSocket", () => {
  it("accepts a run, streams its events in order and stores it as a page run", async () => {
    const client = await WsClient.connect(base);
    client.send({
      type: "run",
      key: "k1",
      spec: { prompt: "6 x 7?", backend: "thinker", budget_forcing: { num_waits: 1 } },
    });
    const accepted = await client.next("run.accepted");
    const events = await client.finished("k1");
    expect(client.messages[0]).toEqual(accepted);
    expect(events[0]).toMatchObject({ type: "run.started", runId: accepted.runId });
    expect(events.at(-1)).toMatchObject({ type: "run.finished", finishReason: "stop" });
    expect(
      events.filter((e) => e.type === "injection").map((e) => e.type === "injection" && e.kind),
    ).toEqual(["wait", "end"]);
    expect(textOf(events)).toBe("Let me think.Wait Check again.</think>The answer is 42.");

    const stored = await waitFor(() => {
      const run = server.app.runStore.get(accepted.runId);
      return run?.status === "completed" && run;
    });
    expect(stored).toMatchObject({
      source: "page",
      mode: "chat",
      prompt: "6 x 7?",
      backend: "thinker",
    });
    expect(stored.events).toEqual(events);
    client.close();
  });

  it("batches a fast run into a few messages, at most one per 50 ms, losing nothing", async () => {
    const client = await WsClient.connect(base);
    client.send({ type: "run", key: "burst", spec: { prompt: "Go", backend: "fast" } });
    const events = await client.finished("burst");
    const batches = client.messages.flatMap((m, i) =>
      m.type === "events" ? [client.arrivals[i]!] : [],
    );
    const duration = batches.at(-1)! - batches[0]!;

    expect(textOf(events)).toBe(LONG_THOUGHT + "</think>done");
    expect(events.filter((e) => e.type === "delta").length).toBeGreaterThan(300);
    // Batched, over time: several messages, many events each, never more than one per ~50 ms.
    expect(batches.length).toBeGreaterThanOrEqual(3);
    expect(events.length / batches.length).toBeGreaterThan(5);
    expect(batches.length).toBeLessThanOrEqual(Math.ceil(duration / 50) + 2);
    client.close();
  });

  it("runs several runs at once on one connection", async () => {
    const client = await WsClient.connect(base);
    client.send({ type: "run", key: "a", spec: { prompt: "A", backend: "fast" } });
    client.send({ type: "run", key: "b", spec: { prompt: "B", backend: "thinker" } });
    const [a, b] = await Promise.all([client.finished("a"), client.finished("b")]);
    expect(textOf(a)).toBe(LONG_THOUGHT + "</think>done");
    expect(textOf(b)).toBe("Let me think.</think> Check again.</think>");
    const batchesWithBoth = client.messages.filter(
      (m) => m.type === "events" && new Set(m.items.map((i) => i.key)).size === 2,
    );
    expect(batchesWithBoth.length).toBeGreaterThan(0);
    client.close();
  });

  it("aborts a run on request: the upstream stops and the run is stored as aborted", async () => {
    const client = await WsClient.connect(base);
    client.send({ type: "run", key: "stop-me", spec: { prompt: "Go", backend: "slow" } });
    const { runId } = await client.next("run.accepted");
    await waitFor(() => client.events("stop-me").filter((e) => e.type === "delta").length >= 3);
    const cancelledBefore = slow.cancelled;
    const abortedAt = performance.now();
    client.send({ type: "abort", key: "stop-me" });
    const events = await client.finished("stop-me");
    expect(events.at(-1)).toMatchObject({ type: "run.finished", finishReason: "aborted" });
    await waitFor(() => slow.cancelled > cancelledBefore, { timeoutMs: 1_000 });
    expect(performance.now() - abortedAt).toBeLessThan(1_000);
    const stored = await waitFor(
      () => server.app.runStore.get(runId)?.status === "aborted" && server.app.runStore.get(runId),
    );
    expect(stored.text).toMatch(/^y{3,}$/);
    client.close();
  });

  it("aborts its runs when the connection closes, storing them as interrupted", async () => {
    const client = await WsClient.connect(base);
    client.send({ type: "run", key: "left", spec: { prompt: "Go", backend: "slow" } });
    const { runId } = await client.next("run.accepted");
    await waitFor(() => client.events("left").filter((e) => e.type === "delta").length >= 3);
    const cancelledBefore = slow.cancelled;
    const requestsBefore = slow.requests.length;
    client.close();
    await waitFor(() => slow.cancelled > cancelledBefore, { timeoutMs: 1_000 });
    const stored = await waitFor(
      () =>
        server.app.runStore.get(runId)?.status === "interrupted" && server.app.runStore.get(runId),
    );
    expect(stored.text.length).toBeGreaterThanOrEqual(3);
    // Nothing more was asked of the upstream after the page left.
    expect(slow.requests.length).toBe(requestsBefore);
  });
});

describe("bad WebSocket messages", () => {
  it("answers each with an error message and keeps the connection open", async () => {
    const client = await WsClient.connect(base);
    const bad: Array<[unknown, object]> = [
      ["{not json", { code: "invalid_json" }],
      [
        { type: "hello" },
        {
          code: "unknown_message_type",
          message:
            'Unknown message type "hello": send "run", "abort", "experiment.subscribe", "experiment.unsubscribe".',
        },
      ],
      [
        { type: "run", key: "k", spec: { prompt: "" } },
        { key: "k", code: "invalid_message" },
      ],
      [
        { type: "run", key: "k", spec: { prompt: "Q", temperature: 1 } },
        { key: "k", code: "invalid_message" },
      ],
      [
        { type: "run", key: "u", spec: { prompt: "Q", backend: "nope" } },
        { key: "u", code: "unknown_backend" },
      ],
      [
        {
          type: "run",
          key: "m",
          spec: { prompt: "Q", budget_forcing: { min_thinking_tokens: 9, max_thinking_tokens: 3 } },
        },
        { key: "m", code: "invalid_budget" },
      ],
      [
        { type: "abort", key: "never-started" },
        { key: "never-started", code: "unknown_key" },
      ],
    ];
    for (const [message, expected] of bad) {
      const before = client.messages.length;
      client.send(message);
      await waitFor(() => client.messages.length > before);
      expect(client.messages.at(-1)).toMatchObject({ type: "error", ...expected });
    }
    expect(client.messages.find((m) => m.type === "error" && m.key === "k")).toMatchObject({
      message: expect.stringMatching(/spec\.prompt/),
    });

    client.send({ type: "run", key: "ok", spec: { prompt: "Q", backend: "thinker" } });
    expect((await client.finished("ok")).at(-1)).toMatchObject({ finishReason: "stop" });
    expect(client.closed).toBe(false);
    client.close();
  });

  it("refuses a second run under a key still running", async () => {
    const client = await WsClient.connect(base);
    client.send({ type: "run", key: "dup", spec: { prompt: "Q", backend: "slow" } });
    await client.next("run.accepted");
    client.send({ type: "run", key: "dup", spec: { prompt: "Q", backend: "slow" } });
    expect(await client.next("error")).toMatchObject({ key: "dup", code: "duplicate_key" });
    client.close();
  });
});

describe("the WebSocket origin check", () => {
  it("refuses a page from another origin", async () => {
    await expect(WsClient.connect(base, { origin: "https://evil.example" })).rejects.toThrow(/403/);
  });

  it("admits the server's own origin, an allowed origin, and clients that send none", async () => {
    const variants: Array<Record<string, string>> = [
      { origin: base },
      { origin: "http://localhost:5173" },
      {},
    ];
    for (const headers of variants) {
      const client = await WsClient.connect(base, headers);
      client.close();
    }
  });
});

describe("backend readiness on the WebSocket", () => {
  it("tells the page a backend is loading, then that it is ready", async () => {
    let ready = false;
    const warming = Object.assign(new ScriptPerRun("warming", { replies: [""] }), {
      readiness: async () =>
        ready
          ? { state: "ready" as const }
          : { state: "loading" as const, message: "loading the model", progress: 0.5 },
    });
    const other = await buildTestApp({ backends: [warming] });
    try {
      const client = await WsClient.connect(await listen(other.app));
      expect(await client.next("backend.status")).toEqual({
        type: "backend.status",
        backendId: "warming",
        readiness: { state: "loading", message: "loading the model", progress: 0.5 },
      });
      ready = true;
      const update = await waitFor(
        () =>
          client.messages.find((m) => m.type === "backend.status" && m.readiness.state === "ready"),
        // The registry polls every 2 s; a loaded CI machine may need a few rounds.
        { timeoutMs: 15_000 },
      );
      expect(update).toEqual({
        type: "backend.status",
        backendId: "warming",
        readiness: { state: "ready" },
      });
      client.close();
    } finally {
      await other.close();
    }
  });
});
