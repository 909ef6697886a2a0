/**
 * Attacks on the server's memory by clients that stop reading: a page whose
 * socket is paused while its runs stream from an upstream as fast as the
 * machine, an API client that never reads its stream, a client that sends
 * faster than it reads the answers. The server stops pulling those runs
 * (which pauses the upstream), stays within a bound, and after a timeout
 * stops the runs as `interrupted` and closes the connection.
 *
 * Memory is this process's (server and clients share it; a paused client's
 * unread bytes wait in the kernel, not here): what is still held once the
 * attack has had its full effect, after a garbage collection, with the
 * resident size's peak reported beside it.
 */
import type {
  Backend,
  GenerateRequest,
  GenerationEvent,
  GenerationSession,
} from "@thinkscope/core";
import type { BackendCapabilities } from "@thinkscope/protocol";
import { createVllmBackend } from "@thinkscope/backends";
import { connect, type Socket } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMarker, startFakeVllm, type FakeVllm } from "../../../../bench/fake-vllm.ts";
import { THINK_PROMPT, WsClient, buildTestApp, listen, waitFor, type TestApp } from "../helpers.ts";

const MB = 1024 * 1024;
const MEMORY_BOUND_MB = 50;
const SEND_BUFFER_LIMIT = MB;
const TOKEN_BYTES = 8 * 1024;
/** One token's text: 8 KiB, decoded afresh for every token as a real upstream's would be. */
const TOKEN_SOURCE = Buffer.alloc(TOKEN_BYTES, "a");

/**
 * An upstream as fast as the machine: every token is 8 KiB of text, until
 * the request's budget. It yields to the event loop every 16 tokens, as a
 * network read would, and counts the tokens it generated.
 */
class FloodBackend implements Backend {
  readonly kind = "scripted" as const;
  readonly capabilities: BackendCapabilities = {
    exactTokenIds: false,
    tokenIdPrompts: false,
    stopTokenIds: false,
    logprobs: false,
    tokenizer: false,
    persistentSequence: false,
  };
  generated = 0;
  /** Requests stopped before their end (the run was aborted). */
  cancelled = 0;

  constructor(readonly id: string) {}

  async listModels() {
    return [{ id: `${this.id}-model` }];
  }

  async readiness() {
    return { state: "ready" as const };
  }

  async openSession(): Promise<GenerationSession> {
    return { generate: (request) => this.generate(request), close: async () => {} };
  }

  async close(): Promise<void> {}

  private async *generate(request: GenerateRequest): AsyncGenerator<GenerationEvent> {
    let finished = false;
    try {
      for (let token = 0; token < request.maxTokens; token += 1) {
        if (token % 16 === 15) await new Promise((resolve) => setImmediate(resolve));
        if (request.signal.aborted) throw new DOMException("aborted", "AbortError");
        this.generated += 1;
        yield { type: "tokens", text: TOKEN_SOURCE.toString("latin1"), tokenCount: 1 };
      }
      finished = true;
      yield { type: "finish", reason: "length", usage: { completionTokens: request.maxTokens } };
    } finally {
      if (!finished) this.cancelled += 1;
    }
  }
}

/** A run of `tokens` thinking tokens of 8 KiB each, then a one-token answer. */
function floodSpec(backend: string, tokens: number) {
  return {
    prompt: THINK_PROMPT,
    mode: "raw",
    backend,
    budget_forcing: { max_thinking_tokens: tokens, num_waits: 0, max_answer_tokens: 1 },
  };
}

setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

/** Live memory (JavaScript heap and buffers) after a full garbage collection. */
function liveBytes(): number {
  collectGarbage();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

/**
 * Measures an attack's cost from `start` to `stop`: the memory still held
 * at the end (after a full collection: what the server keeps for it) and the
 * resident size's peak on the way (which garbage left by earlier tests blurs).
 */
function watchMemory() {
  const live = liveBytes();
  const rss = process.memoryUsage().rss;
  let peak = rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  return {
    stop(): { heldMb: number; rssPeakMb: number } {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage().rss);
      return { heldMb: (liveBytes() - live) / MB, rssPeakMb: (peak - rss) / MB };
    },
  };
}

/** Waits until `count` has stayed the same for `quietMs`; returns it. */
async function settled(count: () => number, quietMs = 1_000, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = count();
  let since = Date.now();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = count();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return now;
    }
    if (Date.now() > deadline) throw new Error(`still changing after ${timeoutMs} ms: ${now}`);
  }
}

/** Starts a streamed budget-forced completion on a raw socket that never reads its answer. */
function unreadCompletion(base: string, body: object): Socket {
  const { hostname, port, host } = new URL(base);
  const json = JSON.stringify(body);
  const socket = connect(Number(port), hostname);
  socket.pause();
  socket.write(
    `POST /v1/completions HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`,
  );
  return socket;
}

function runIdsOf(server: TestApp): Set<string> {
  return new Set(server.app.runStore.list({ limit: 1000 }).runs.map((run) => run.id));
}

/** The runs stored since `before` was taken. */
function runsSince(server: TestApp, before: Set<string>) {
  return server.app.runStore.list({ limit: 1000 }).runs.filter((run) => !before.has(run.id));
}

function reportMemory(
  attack: string,
  memory: { heldMb: number; rssPeakMb: number },
  generated: number,
): void {
  console.log(
    `${attack}: +${memory.heldMb.toFixed(1)} MB held (bound ${MEMORY_BOUND_MB}), ` +
      `resident peak +${memory.rssPeakMb.toFixed(1)} MB, ${generated} tokens generated ` +
      `(${((generated * TOKEN_BYTES) / MB).toFixed(0)} MB of text)`,
  );
}

/** Readers that stall are given a minute: long enough to watch them held. */
const patientFlood = new FloodBackend("flood");
let patient: TestApp;
let patientBase: string;
/** Readers that stall are dropped after a second. */
const strictFlood = new FloodBackend("flood");
let strict: TestApp;
let strictBase: string;

beforeAll(async () => {
  patient = await buildTestApp({
    backends: [patientFlood],
    config: { sendBufferLimit: SEND_BUFFER_LIMIT, stalledClientTimeoutMs: 60_000 },
  });
  patientBase = await listen(patient.app);
  strict = await buildTestApp({
    backends: [strictFlood],
    config: { sendBufferLimit: SEND_BUFFER_LIMIT, stalledClientTimeoutMs: 1_000 },
  });
  strictBase = await listen(strict.app);
});
afterAll(async () => {
  await patient.close();
  await strict.close();
});

describe("a page that stops reading", () => {
  it("20 runs streaming to a paused page stop being generated and hold memory growth under 50 MB", async () => {
    const RUNS = 20;
    const TOKENS = 10_000;
    const client = await WsClient.connect(patientBase);
    client.socket.pause();
    const memory = watchMemory();
    const generatedBefore = patientFlood.generated;
    for (let i = 0; i < RUNS; i += 1) {
      client.send({ type: "run", key: `r${i}`, spec: floodSpec("flood", TOKENS) });
    }
    const generated = (await settled(() => patientFlood.generated)) - generatedBefore;
    const held = memory.stop();
    reportMemory("20 runs to a paused page", held, generated);

    expect(held.heldMb).toBeLessThan(MEMORY_BOUND_MB);
    // Paused, not finished: a small part of what the runs would generate, and nothing cancelled.
    expect(generated).toBeLessThan((RUNS * TOKENS) / 10);
    expect(patient.app.runService.activeCount).toBe(RUNS);
    expect(patientFlood.cancelled).toBe(0);
    await closeAndWait(client, { abruptly: true });
    await waitFor(() => patient.app.runService.activeCount === 0);
  });

  it("a client that sends faster than it reads the answers is read no faster than it reads", async () => {
    const FRAMES = 400_000;
    const client = await WsClient.connect(patientBase);
    client.socket.pause();
    const socket = rawSocket(client);
    // A thousand frames of an unknown 40-character type, each answered with an error of ~200 bytes.
    const frame = maskedTextFrame(`{"type":"${"x".repeat(40)}"}`);
    const batch = Buffer.concat(Array.from({ length: 1_000 }, () => frame));
    const memory = watchMemory();
    let sent = 0;
    const until = Date.now() + 4_000;
    while (sent < FRAMES && Date.now() < until) {
      // Only as fast as the server takes them: a client's own buffer is its own memory.
      if (socket.writableLength < 256 * 1024) {
        socket.write(batch);
        sent += 1_000;
      } else {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    const held = memory.stop();
    console.log(
      `a client sending ${sent} frames without reading: +${held.heldMb.toFixed(1)} MB held ` +
        `(bound ${MEMORY_BOUND_MB}), resident peak +${held.rssPeakMb.toFixed(1)} MB, ` +
        `${socket.writableLength} bytes left unsent on its side`,
    );
    expect(held.heldMb).toBeLessThan(MEMORY_BOUND_MB);
    // The server stopped reading: the client could not get them all out.
    expect(sent).toBeLessThan(FRAMES);
    // Every frame is answered, in order, once the client reads.
    client.socket.resume();
    client.send({ type: "abort", key: "last" });
    await waitFor(() => client.messages.at(-1)?.type === "error" && client.messages.length > sent, {
      timeoutMs: 60_000,
    });
    expect(client.messages).toHaveLength(sent + 1);
    expect(client.messages.at(-1)).toMatchObject({ key: "last", code: "unknown_key" });
    expect(
      client.messages
        .slice(0, sent)
        .every((m) => m.type === "error" && m.code === "unknown_message_type"),
    ).toBe(true);
    await closeAndWait(client);
  });

  it("a page that reads slowly still gets every event of its run, in order", async () => {
    const TOKENS = 3_000;
    const client = await WsClient.connect(patientBase);
    client.socket.pause();
    client.send({ type: "run", key: "slow", spec: floodSpec("flood", TOKENS) });
    const generatedBefore = patientFlood.generated;
    await settled(() => patientFlood.generated, 500);
    expect(patientFlood.generated - generatedBefore).toBeLessThan(TOKENS);
    client.socket.resume();
    const events = await client.finished("slow", 30_000);
    const thinking = events.filter((e) => e.type === "delta" && e.phase === "thinking");
    expect(thinking).toHaveLength(TOKENS);
    expect(thinking.map((e) => e.type === "delta" && e.phaseTokens)).toEqual(
      Array.from({ length: TOKENS }, (_, i) => i + 1),
    );
    expect(events.at(-1)).toMatchObject({ type: "run.finished", finishReason: "length" });
    await closeAndWait(client);
  });

  it("a page that stays paused past the timeout has its runs stored as interrupted and its socket closed (4000)", async () => {
    const before = runIdsOf(strict);
    const cancelledBefore = strictFlood.cancelled;
    const client = await WsClient.connect(strictBase);
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      client.socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    client.socket.pause();
    for (let i = 0; i < 3; i += 1) {
      client.send({ type: "run", key: `r${i}`, spec: floodSpec("flood", 10_000) });
    }
    const runs = await waitFor(
      () => {
        const stored = runsSince(strict, before);
        return stored.length === 3 && stored.every((r) => r.status === "interrupted") && stored;
      },
      { timeoutMs: 15_000 },
    );
    expect(runs.map((r) => r.status)).toEqual(["interrupted", "interrupted", "interrupted"]);
    expect(strictFlood.cancelled - cancelledBefore).toBe(3);
    // Once it reads again, the page learns why it was closed.
    client.socket.resume();
    expect(await closed).toEqual({ code: 4000, reason: "client not reading" });
    // What it read is garbage before the next test measures memory.
    client.messages.length = 0;
  });
});

describe("an API client that stops reading its stream", () => {
  it("3 streamed completions nobody reads stop being generated and hold memory growth under 50 MB", async () => {
    const STREAMS = 3;
    const TOKENS = 10_000;
    const before = runIdsOf(patient);
    const memory = watchMemory();
    const generatedBefore = patientFlood.generated;
    const sockets = Array.from({ length: STREAMS }, () =>
      unreadCompletion(patientBase, {
        model: "flood",
        prompt: THINK_PROMPT,
        stream: true,
        budget_forcing: { max_thinking_tokens: TOKENS, num_waits: 0, max_answer_tokens: 1 },
      }),
    );
    await waitFor(() => runsSince(patient, before).length === STREAMS);
    const generated = (await settled(() => patientFlood.generated)) - generatedBefore;
    const held = memory.stop();
    reportMemory("3 unread completion streams", held, generated);

    expect(held.heldMb).toBeLessThan(MEMORY_BOUND_MB);
    expect(generated).toBeLessThan((STREAMS * TOKENS) / 4);
    expect(runsSince(patient, before).every((r) => r.status === "running")).toBe(true);
    for (const socket of sockets) socket.destroy();
    await waitFor(() => runsSince(patient, before).every((r) => r.status === "interrupted"));
  });

  it("a stream left unread past the timeout is stored as interrupted and its connection closed", async () => {
    const before = runIdsOf(strict);
    const socket = unreadCompletion(strictBase, {
      model: "flood",
      prompt: THINK_PROMPT,
      stream: true,
      budget_forcing: { max_thinking_tokens: 10_000, num_waits: 0, max_answer_tokens: 1 },
    });
    const closed = new Promise((resolve) => socket.once("close", resolve));
    const [run] = await waitFor(
      () => {
        const stored = runsSince(strict, before);
        return stored.length === 1 && stored[0]!.status === "interrupted" && stored;
      },
      { timeoutMs: 15_000 },
    );
    expect(run).toMatchObject({ status: "interrupted", backend: "flood" });
    socket.resume();
    await closed;
  });
});

describe("an upstream behind a client that stops reading", () => {
  let fake: FakeVllm;
  let patientVllm: TestApp;
  let strictVllm: TestApp;

  beforeAll(async () => {
    // As fast as Thinkscope reads it: the fake writes only while its socket drains.
    fake = await startFakeVllm({ tokensPerSecond: 0, maxModelLen: 10_000_000 });
    const build = (stalledClientTimeoutMs: number) =>
      buildTestApp({
        backends: [createVllmBackend({ url: fake.baseUrl, id: "vllm" })],
        config: { sendBufferLimit: SEND_BUFFER_LIMIT, stalledClientTimeoutMs },
      });
    patientVllm = await build(60_000);
    strictVllm = await build(1_000);
  });
  afterAll(async () => {
    await patientVllm.close();
    await strictVllm.close();
    await fake.close();
  });

  it("the vLLM server's stream is paused while a page does not read, and closed when it leaves", async () => {
    const THINK = 2_000_000;
    const client = await WsClient.connect(await listen(patientVllm.app));
    client.socket.pause();
    client.send({
      type: "run",
      key: "held",
      spec: {
        prompt: `${runMarker("held", { think: THINK })} Count.`,
        budget_forcing: { max_thinking_tokens: THINK, num_waits: 0, max_answer_tokens: 1 },
      },
    });
    await waitFor(() => fake.stats.activeStreams === 1);
    const sent = await settled(() => fake.stats.tokens);
    console.log(
      `a paused page over vLLM: the upstream sent ${sent} of ${THINK} tokens, then waited`,
    );
    expect(sent).toBeLessThan(THINK / 4);
    expect(fake.stats.activeStreams).toBe(1);
    client.socket.terminate();
    await waitFor(() => fake.stats.activeStreams === 0);
  });

  it("a pass-through stream nobody reads is closed after the timeout, and the vLLM request with it", async () => {
    const socket = unreadCompletion(await listen(strictVllm.app), {
      prompt: `${runMarker("passthrough", { think: 2_000_000 })} Count.`,
      max_tokens: 2_000_000,
      stream: true,
      // A field only the upstream honours: the request is passed through, not run.
      logprobs: 1,
    });
    const closed = new Promise((resolve) => socket.once("close", resolve));
    await waitFor(() => fake.stats.activeStreams === 1);
    await waitFor(() => fake.stats.activeStreams === 0, { timeoutMs: 15_000 });
    socket.resume();
    await closed;
  });
});

/**
 * Closes a client and waits until it is closed, so that what it received is
 * garbage before the next test measures memory.
 */
async function closeAndWait(client: WsClient, { abruptly = false } = {}): Promise<void> {
  const closed = new Promise((resolve) => client.socket.once("close", resolve));
  if (abruptly) client.socket.terminate();
  else client.close();
  await closed;
  client.messages.length = 0;
}

/** A client's text frame, masked with zeros (a client must mask; any key will do). */
function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  if (payload.length > 125) throw new Error("a short frame only");
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
}

/** The TCP socket under a client's WebSocket, to write frames faster than `send` does. */
function rawSocket(client: WsClient): Socket {
  return (client.socket as unknown as { _socket: Socket })._socket;
}

describe("a client that opens many connections", () => {
  it("gets no more than THINKSCOPE_MAX_CONNECTIONS_PER_ADDRESS at once, and the next once one closes", async () => {
    const app = await buildTestApp({
      backends: [new FloodBackend("flood")],
      config: { maxConnectionsPerAddress: 3 },
    });
    const clients: WsClient[] = [];
    try {
      const base = await listen(app.app);
      for (let i = 0; i < 3; i++) clients.push(await WsClient.connect(base));
      await expect(WsClient.connect(base)).rejects.toThrow("upgrade refused: 429");
      clients.pop()!.close();
      await waitFor(async () => {
        try {
          clients.push(await WsClient.connect(base));
          return true;
        } catch {
          return false;
        }
      });
      expect((await app.app.inject({ url: "/api/health" })).statusCode).toBe(200);
    } finally {
      for (const client of clients) client.close();
      await app.close();
    }
  });
});
