/**
 * Attacks on the WebSocket: frames no page sends, from a client that wants
 * the server down. After each, the server still answers /api/health, and the
 * connection either stays open with an `error` message or is closed cleanly
 * with a close code (a frame over the size limit, text that is not UTF-8, a
 * broken frame). An exception nobody caught would end a real server process,
 * so any is a failure here too.
 */
import type { Backend } from "@thinkscope/core";
import { ClientMessageSchema, type ServerMessage } from "@thinkscope/protocol";
import fc from "fast-check";
import type { Socket } from "node:net";
import { Compile } from "typebox/compile";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  ScriptPerRun,
  THINK_PROMPT,
  WsClient,
  buildTestApp,
  listen,
  waitFor,
  type TestApp,
} from "../helpers.ts";

const PAYLOAD_LIMIT = 256 * 1024;
const MESSAGE_TYPES = ["run", "abort", "experiment.subscribe", "experiment.unsubscribe"] as const;
const isClientMessage = Compile(ClientMessageSchema);

const thinker = new ScriptPerRun("thinker", {
  replies: ["Let me think.</think>", "The answer is 42."],
});
/** Streams for about a minute. */
const slow = new ScriptPerRun("slow", {
  replies: ["y".repeat(3000) + "</think>", "late"],
  chunkDelayMs: 20,
});
/** Takes a while to open a session, so a client can leave while its run is starting. */
const slowToStart: Backend = Object.assign(new ScriptPerRun("slow-start", { replies: ["x"] }), {
  openSession: async function (this: ScriptPerRun) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return ScriptPerRun.prototype.openSession.call(this);
  },
});
const buggy: Backend = Object.assign(new ScriptPerRun("buggy", { replies: ["x"] }), {
  openSession: async () => {
    throw new TypeError("Cannot read properties of undefined (reading 'session')");
  },
});

let server: TestApp;
let base: string;
/** Exceptions nobody caught: each would have ended a real server process. */
const uncaught: unknown[] = [];
const recordUncaught = (error: unknown) => void uncaught.push(error);

beforeAll(async () => {
  process.on("uncaughtException", recordUncaught);
  process.on("unhandledRejection", recordUncaught);
  server = await buildTestApp({
    backends: [thinker, slow, slowToStart, buggy],
    // Fuzzed budgets must not make a run go on for minutes.
    config: { bodyLimit: PAYLOAD_LIMIT, maxWaitsCap: 4, maxThinkingTokensCap: 4096 },
  });
  base = await listen(server.app);
});
afterAll(async () => {
  process.off("uncaughtException", recordUncaught);
  process.off("unhandledRejection", recordUncaught);
  await server.close();
});

async function expectServerUp(): Promise<void> {
  expect(uncaught).toEqual([]);
  const health = await fetch(`${base}/api/health`);
  expect(health.status).toBe(200);
}

type Frame =
  | { kind: "text"; data: string }
  | { kind: "bytes as text"; data: Uint8Array }
  | { kind: "binary"; data: Uint8Array };

function send(client: WsClient, frame: Frame): void {
  if (frame.kind === "text") client.socket.send(frame.data);
  else client.socket.send(frame.data, { binary: frame.kind === "binary" });
}

let sentinels = 0;

/**
 * Sends the frames, then a message whose answer is known (an abort of a key
 * never used); messages are handled in order, so once its answer is back
 * every frame before it has been handled. Returns what came back in between.
 */
async function exchange(client: WsClient, frames: Frame[]): Promise<ServerMessage[]> {
  const key = `sentinel-${++sentinels}`;
  const from = client.messages.length;
  for (const frame of frames) send(client, frame);
  client.send({ type: "abort", key });
  const isSentinel = (m: ServerMessage) => m.type === "error" && m.key === key;
  await waitFor(() => client.closed || client.messages.slice(from).some(isSentinel), {
    timeoutMs: 15_000,
  });
  expect(client.closed, "the server closed a connection that sent only whole frames").toBe(false);
  return client.messages.slice(from).filter((m) => !isSentinel(m));
}

/** Resolves with the close code and reason once the server has closed the connection. */
function closeOf(client: WsClient): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    client.socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

function isUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Something where a field's value belongs: the right shape, or any JSON at all. */
const anything = fc.jsonValue({ maxDepth: 3 });
const specLike = fc.record(
  {
    prompt: fc.oneof(fc.string({ maxLength: 30 }), anything),
    mode: fc.oneof(fc.constantFrom("chat", "raw"), anything),
    backend: fc.oneof(fc.constantFrom("thinker", "nope"), anything),
    model: fc.oneof(fc.string({ maxLength: 10 }), anything),
    budget_forcing: fc.oneof(
      anything,
      fc.record(
        {
          max_thinking_tokens: fc.oneof(fc.integer(), fc.double(), anything),
          min_thinking_tokens: fc.oneof(fc.integer({ min: -5, max: 5000 }), anything),
          num_waits: fc.oneof(fc.integer({ min: -2, max: 10 }), anything),
          wait_string: fc.oneof(fc.string({ maxLength: 10 }), fc.array(fc.string()), anything),
          format: fc.oneof(fc.constantFrom("think-tags", "s1"), anything),
        },
        { requiredKeys: [] },
      ),
    ),
    sampling: fc.oneof(
      anything,
      fc.record(
        { temperature: fc.oneof(fc.double(), anything), seed: fc.oneof(fc.integer(), anything) },
        { requiredKeys: [] },
      ),
    ),
  },
  { requiredKeys: [] },
);
/** A message with a real type and fields that are wrong, missing, extra or right by chance. */
const typedMessage = fc
  .tuple(
    fc.record(
      {
        type: fc.constantFrom(...MESSAGE_TYPES),
        key: fc.oneof(fc.string({ maxLength: 120 }), anything),
        spec: fc.oneof(specLike, anything),
        experimentId: fc.oneof(fc.string({ maxLength: 10 }), anything),
      },
      { requiredKeys: ["type"] },
    ),
    fc.dictionary(fc.string({ maxLength: 8 }), anything, { maxKeys: 2 }),
  )
  .map(([message, extra]) => ({ ...extra, ...message }));

const wholeFrame: fc.Arbitrary<Frame> = fc.oneof(
  fc.jsonValue().map((value) => ({ kind: "text" as const, data: JSON.stringify(value) })),
  typedMessage.map((message) => ({ kind: "text" as const, data: JSON.stringify(message) })),
  fc.string({ unit: "binary", maxLength: 200 }).map((data) => ({ kind: "text" as const, data })),
  fc.uint8Array({ maxLength: 200 }).map((data) => ({ kind: "binary" as const, data })),
);

describe("fuzzed frames", () => {
  it("arbitrary JSON, messages with wrong fields, strings and binary frames each get an answer and the server keeps serving", async () => {
    let frames = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(wholeFrame, { minLength: 30, maxLength: 30 }), async (batch) => {
        const client = await WsClient.connect(base);
        try {
          const answers = await exchange(client, batch);
          frames += batch.length;
          // Every frame that is not a valid message is answered with an error.
          const invalid = batch.filter(
            (f) => f.kind !== "text" || !isClientMessage.Check(safeParse(f.data)),
          ).length;
          const errors = answers.filter((m) => m.type === "error").length;
          expect(errors).toBeGreaterThanOrEqual(invalid);
          expect(errors).toBeLessThanOrEqual(batch.length);
          expect(answers.some((m) => m.type === "error" && m.code === "internal_error")).toBe(
            false,
          );
          await expectServerUp();
        } finally {
          client.close();
        }
      }),
      { numRuns: 40 },
    );
    expect(frames).toBeGreaterThanOrEqual(1_000);
  });

  it("arbitrary bytes sent as text get an answer, or a clean close (1007) when they are not UTF-8", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 64 }), { minLength: 10, maxLength: 10 }),
        async (batch) => {
          const client = await WsClient.connect(base);
          const closed = closeOf(client);
          const frames = batch.map((data): Frame => ({ kind: "bytes as text", data }));
          try {
            if (batch.every(isUtf8)) {
              const answers = await exchange(client, frames);
              expect(answers.filter((m) => m.type === "error")).toHaveLength(batch.length);
            } else {
              for (const frame of frames) send(client, frame);
              expect((await closed).code).toBe(1007);
            }
            await expectServerUp();
          } finally {
            client.close();
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

describe("frames no page sends", () => {
  it("a `null` frame gets an error message and the server keeps serving", async () => {
    const client = await WsClient.connect(base);
    const answers = await exchange(client, [{ kind: "text", data: "null" }]);
    expect(answers).toEqual([
      {
        type: "error",
        code: "invalid_message",
        message: expect.stringMatching(/JSON object with a string "type"/),
      },
    ]);
    await expectServerUp();
    client.close();
  });

  it("arrays, numbers, strings, `true` and objects without a type each get an error message", async () => {
    const client = await WsClient.connect(base);
    const frames = ["[]", "[null]", "0", "-1e308", '"run"', "true", "{}", '{"type":null}'];
    const answers = await exchange(
      client,
      frames.map((data) => ({ kind: "text", data })),
    );
    expect(answers.map((m) => m.type === "error" && m.code)).toEqual(
      frames.map(() => "invalid_message"),
    );
    await expectServerUp();
    client.close();
  });

  it("deep nesting and huge fields up to the size limit get error messages, quoting nothing huge back", async () => {
    const client = await WsClient.connect(base);
    const room = PAYLOAD_LIMIT - 200;
    const depth = Math.floor(room / 2);
    const deepArray = "[".repeat(depth) + "]".repeat(depth);
    const deepObject =
      '{"a":'.repeat(Math.floor(room / 6)) + "1" + "}".repeat(Math.floor(room / 6));
    const frames = [
      deepArray,
      deepObject,
      `{"type":${deepArray}}`,
      `{"type":"run","key":"deep","spec":{"prompt":"Q","budget_forcing":${deepArray}}}`,
      `{"type":"run","key":"deep","spec":{"prompt":"Q","budget_forcing":{"format":${deepObject}}}}`,
      `{"type":"${"t".repeat(room)}"}`,
      `{"type":"abort","key":"${"k".repeat(room)}"}`,
      `{"type":"run","key":"long","spec":{"prompt":"${"p".repeat(room)}"}}`,
      `{"type":"run","key":"many","spec":{"prompt":"Q","budget_forcing":{"wait_string":[${Array(Math.floor(room / 2) - 1).fill(1)}]}}}`,
    ];
    const answers = await exchange(
      client,
      frames.map((data) => ({ kind: "text", data })),
    );
    expect(answers).toHaveLength(frames.length);
    for (const answer of answers) {
      expect(answer).toMatchObject({ type: "error" });
      expect(JSON.stringify(answer).length).toBeLessThan(2_000);
    }
    await expectServerUp();
    client.close();
  });

  it("`__proto__` and `constructor` fields pollute nothing", async () => {
    const client = await WsClient.connect(base);
    const frames = [
      '{"__proto__":{"type":"run","key":"p","spec":{"prompt":"Q"}}}',
      '{"type":"run","key":"p","spec":{"__proto__":{"prompt":"Q"}}}',
      '{"type":"run","key":"p","constructor":{"prototype":{"polluted":1}},"spec":{"prompt":"Q"}}',
    ];
    const answers = await exchange(
      client,
      frames.map((data) => ({ kind: "text", data })),
    );
    expect(answers.map((m) => m.type === "error" && m.code)).toEqual([
      "invalid_message",
      "invalid_message",
      "invalid_message",
    ]);
    expect(({} as Record<string, unknown>).type).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expectServerUp();
    client.close();
  });

  it("a frame over the size limit closes that connection cleanly (1009) and the server keeps serving", async () => {
    const client = await WsClient.connect(base);
    const closed = closeOf(client);
    client.socket.send("x".repeat(PAYLOAD_LIMIT + 1));
    expect((await closed).code).toBe(1009);
    await expectServerUp();
  });

  it("a message over the size limit in many fragments closes that connection cleanly (1009)", async () => {
    const client = await WsClient.connect(base);
    const closed = closeOf(client);
    const fragment = "x".repeat(16 * 1024);
    for (let sent = 0; sent <= PAYLOAD_LIMIT; sent += fragment.length) {
      client.socket.send(fragment, { fin: false });
    }
    client.socket.send("", { fin: true });
    expect((await closed).code).toBe(1009);
    await expectServerUp();
  });

  it("a message in fragments is answered once, as a whole", async () => {
    const client = await WsClient.connect(base);
    const message = JSON.stringify({ type: "abort", key: "fragmented" });
    for (let at = 0; at < message.length; at += 5) {
      client.socket.send(message.slice(at, at + 5), { fin: at + 5 >= message.length });
    }
    expect(await client.next("error")).toMatchObject({ key: "fragmented", code: "unknown_key" });
    await expectServerUp();
    client.close();
  });

  it("text that is not UTF-8 closes that connection cleanly (1007) and the server keeps serving", async () => {
    const client = await WsClient.connect(base);
    const closed = closeOf(client);
    client.socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect((await closed).code).toBe(1007);
    await expectServerUp();
  });

  it("a broken frame (a reserved opcode, an unmasked frame) closes that connection (1002) and the server keeps serving", async () => {
    for (const bytes of [
      [0x83, 0x80, 1, 2, 3, 4], // opcode 3 is reserved
      [0x81, 0x02, 0x7b, 0x7d], // a client must mask its frames
    ]) {
      const client = await WsClient.connect(base);
      const closed = closeOf(client);
      rawSocket(client).write(Buffer.from(bytes));
      expect((await closed).code).toBe(1002);
      await expectServerUp();
    }
  });

  it("pings are answered and the connection stays usable", async () => {
    const client = await WsClient.connect(base);
    let pongs = 0;
    client.socket.on("pong", () => (pongs += 1));
    for (let round = 0; round < 20; round += 1) {
      for (let i = 0; i < 50; i += 1) client.socket.ping();
      await waitFor(() => pongs === (round + 1) * 50);
    }
    await exchange(client, []);
    await expectServerUp();
    client.close();
  });

  it("a ping flood faster than its pongs can leave cuts that connection only", async () => {
    const client = await WsClient.connect(base);
    const closed = closeOf(client);
    // ws drops a connection with more than 60 pongs waiting to be sent.
    for (let i = 0; i < 10_000; i += 1) client.socket.ping();
    expect((await closed).code).toBe(1006);
    await expectServerUp();
  });

  it("ten thousand frames sent at once are all answered, in order, and the server keeps serving", async () => {
    const client = await WsClient.connect(base);
    const keys = Array.from({ length: 10_000 }, (_, i) => `burst-${i}`);
    const answers = await exchange(
      client,
      keys.map((key) => ({ kind: "text", data: JSON.stringify({ type: "abort", key }) })),
    );
    expect(answers.map((m) => m.type === "error" && m.key)).toEqual(keys);
    await expectServerUp();
    client.close();
  });
});

describe("faults around the connection", () => {
  it("a handler that throws is answered with an error message and the connection stays open", async () => {
    const subscribe = vi.spyOn(server.app.experiments, "subscribe").mockImplementation(() => {
      throw new TypeError("Cannot read properties of undefined (reading 'progress')");
    });
    try {
      const client = await WsClient.connect(base);
      const answers = await exchange(client, [
        { kind: "text", data: JSON.stringify({ type: "experiment.subscribe", experimentId: "e" }) },
      ]);
      expect(answers).toEqual([
        { type: "error", code: "internal_error", message: "The message could not be handled." },
      ]);
      client.send({ type: "run", key: "after", spec: { prompt: THINK_PROMPT, mode: "raw" } });
      await client.finished("after");
      await expectServerUp();
      client.close();
    } finally {
      subscribe.mockRestore();
    }
  });

  it("a run whose start fails with an unexpected error is answered with an error message", async () => {
    const client = await WsClient.connect(base);
    client.send({ type: "run", key: "bug", spec: { prompt: "Q", backend: "buggy" } });
    expect(await client.next("error")).toEqual({
      type: "error",
      key: "bug",
      code: "internal_error",
      message: "The run could not be started.",
    });
    expect(client.closed).toBe(false);
    await expectServerUp();
    client.close();
  });

  it("a client that leaves while its run is starting leaves the run stored as interrupted", async () => {
    const before = new Set(server.app.runStore.list().runs.map((r) => r.id));
    const client = await WsClient.connect(base);
    client.send({ type: "run", key: "gone", spec: { prompt: "Q", backend: "slow-start" } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.socket.terminate();
    const run = await waitFor(() =>
      server.app.runStore.list().runs.find((r) => !before.has(r.id) && r.backend === "slow-start"),
    );
    await waitFor(() => server.app.runStore.get(run.id)?.status === "interrupted");
    await waitFor(() => server.app.runService.activeCount === 0);
    await expectServerUp();
  });

  it("a connection torn down mid-run (a socket error) interrupts its runs and the server keeps serving", async () => {
    const client = await WsClient.connect(base);
    client.send({
      type: "run",
      key: "torn",
      spec: { prompt: THINK_PROMPT, mode: "raw", backend: "slow" },
    });
    const { runId } = await client.next("run.accepted");
    rawSocket(client).destroy();
    await waitFor(() => server.app.runStore.get(runId)?.status === "interrupted");
    await expectServerUp();
  });
});

/** The TCP socket under a client's WebSocket, to misbehave below the WebSocket protocol. */
function rawSocket(client: WsClient): Socket {
  return (client.socket as unknown as { _socket: Socket })._socket;
}
