/**
 * What Thinkscope costs in the middle: a local vLLM-compatible
 * upstream (bench/fake-vllm.ts) streaming one token per chunk as fast as
 * the reader takes them, read
 *
 *   1. directly, by a plain SSE client counting `token_ids`, and
 *   2. through Thinkscope's `/v1/completions` with `budget_forcing` (the
 *      server in its own process, THINKSCOPE_BACKEND=vllm:...), where every
 *      token is also parsed, run through the engine, stored and re-encoded;
 *
 * tokens/s both ways and the ratio (target >= 0.5, aim 0.9); the server's
 * CPU per token over a run of a million tokens (target <= 4 µs); the bytes
 * the run store takes on disk (database and WAL) per token, for one
 * 20,000-token run and for an experiment of a million tokens (target <= 16);
 * the same at a pace a GPU gives one sequence; then many concurrent
 * budget-forced streams held open together (default 200, each paced at 50
 * tokens/s, thinking, a `Wait`, thinking again, the close and the answer):
 * all must complete, and every stream's text must be exactly the tokens the
 * upstream sent for it, in order.
 *
 * Settings (environment): BENCH_PROXY_TOKENS (tokens per single stream,
 * default 200000), BENCH_PROXY_ROUNDS (2), BENCH_PROXY_LONG_TOKENS (the long
 * run and the experiment, 1000000), BENCH_PROXY_STREAMS (200),
 * BENCH_PROXY_STREAM_TPS (50).
 */
import { fork } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { cpuWaitNote, schedStat, startBenchServer, type BenchServer } from "./bench-server.ts";
import { runMarker, startFakeVllm, tokenText, type FakeVllm } from "./fake-vllm.ts";
import { readSse } from "./sse-client.ts";

const TOKENS = Number(process.env.BENCH_PROXY_TOKENS ?? 200_000);
const ROUNDS = Number(process.env.BENCH_PROXY_ROUNDS ?? 2);
const LONG_TOKENS = Number(process.env.BENCH_PROXY_LONG_TOKENS ?? 1_000_000);
const STREAMS = Number(process.env.BENCH_PROXY_STREAMS ?? 200);
const STREAM_TPS = Number(process.env.BENCH_PROXY_STREAM_TPS ?? 50);

let runs = 0;
const newKey = (kind: string) => `${kind}-${process.pid}-${runs++}`;

function rawPrompt(marker: string): string {
  return `<|im_start|>user\n${marker} Count as far as you can.<|im_end|>\n<|im_start|>assistant\n<think>\n`;
}

/** The body the vLLM adapter sends for a run of `think` tokens. */
function upstreamBody(fake: FakeVllm, key: string, think: number, tps?: number) {
  return {
    model: fake.model,
    prompt: rawPrompt(runMarker(key, { think, tps })),
    max_tokens: think,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true, continuous_usage_stats: true },
    return_token_ids: true,
    skip_special_tokens: false,
    spaces_between_special_tokens: false,
    include_stop_str_in_output: false,
    add_special_tokens: false,
    stop_token_ids: [151668],
  };
}

/**
 * What a plain Node client spends per token reading and parsing a stream of
 * `think` tokens and doing nothing else (bench/upstream-reader-child.ts, a
 * process of its own): the part of the server's figure no proxy avoids.
 */
async function readingFloor(fake: FakeVllm, think: number): Promise<number> {
  const key = newKey("floor");
  const child = fork(fileURLToPath(new URL("./upstream-reader-child.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const answer = new Promise<{ tokens: number; cpuMicros: number }>((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) =>
      reject(new Error(`the reader exited (${code}) without answering`)),
    );
  });
  child.send({
    url: `${fake.baseUrl}/completions`,
    body: JSON.stringify(upstreamBody(fake, key, think)),
  });
  const { tokens, cpuMicros } = await answer;
  fake.forget(key);
  return cpuMicros / tokens;
}

/** One stream read straight from the upstream, with the body the vLLM adapter sends. */
async function direct(
  fake: FakeVllm,
  think: number,
  tps?: number,
): Promise<{ tokens: number; ms: number }> {
  const key = newKey("direct");
  const started = performance.now();
  const response = await fetch(`${fake.baseUrl}/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(upstreamBody(fake, key, think, tps)),
  });
  let tokens = 0;
  await readSse(response, (data) => {
    const choice = (data.choices as { token_ids?: number[] }[] | undefined)?.[0];
    tokens += choice?.token_ids?.length ?? 0;
  });
  const ms = performance.now() - started;
  fake.forget(key);
  return { tokens, ms };
}

interface ProxiedStream {
  status: number;
  tokens: number;
  ms: number;
  /** Time to the first streamed token. */
  firstMs: number;
  /** The streamed text with the injected chunks left out: what the model generated. */
  generated: string;
  injected: string[];
  done: boolean;
  summary: Record<string, unknown> | undefined;
  error: unknown;
}

/** One budget-forced stream through Thinkscope. */
async function proxied(
  server: BenchServer,
  fake: FakeVllm,
  key: string,
  shape: { think: number; answer: number; tps?: number },
  budgetForcing: Record<string, unknown>,
): Promise<ProxiedStream> {
  const started = performance.now();
  const response = await fetch(`${server.url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      prompt: rawPrompt(runMarker(key, shape)),
      stream: true,
      budget_forcing: budgetForcing,
    }),
  });
  const result: ProxiedStream = {
    status: response.status,
    tokens: 0,
    ms: 0,
    firstMs: 0,
    generated: "",
    injected: [],
    done: false,
    summary: undefined,
    error: undefined,
  };
  if (response.status !== 200) {
    result.error = await response.text();
    return result;
  }
  const read = await readSse(response, (data) => {
    if (data.error) result.error = data.error;
    if (data.budget_forcing) result.summary = data.budget_forcing as Record<string, unknown>;
    const choice = (data.choices as { text?: string; injected?: string }[] | undefined)?.[0];
    if (!choice) return;
    if (result.firstMs === 0) result.firstMs = performance.now() - started;
    if (choice.injected) result.injected.push(choice.injected);
    else result.generated += choice.text ?? "";
  });
  result.done = read.done;
  result.ms = performance.now() - started;
  result.tokens = fake.sentIds(key).length;
  return result;
}

/** Whether a stream carried exactly the upstream's tokens, in order. */
function intact(fake: FakeVllm, key: string, stream: ProxiedStream): boolean {
  return stream.generated === fake.sentIds(key).map(tokenText).join("");
}

const rate = (tokens: number, ms: number) => (tokens * 1000) / ms;

/** The server's CPU per token over one long run, the upstream unthrottled. */
async function longRun(server: BenchServer, fake: FakeVllm): Promise<void> {
  const key = newKey("long");
  const cpuBefore = await server.cpuMicros();
  const p = await proxied(
    server,
    fake,
    key,
    { think: LONG_TOKENS, answer: 16 },
    { max_thinking_tokens: LONG_TOKENS + 100, max_answer_tokens: 16 },
  );
  const used = (await server.cpuMicros()) - cpuBefore;
  const ok = p.done && intact(fake, key, p);
  fake.forget(key);
  const perToken = used / p.tokens;
  const floor = await readingFloor(fake, LONG_TOKENS);
  console.log(
    `one run of ${LONG_TOKENS.toLocaleString("en-US")} tokens, the upstream unthrottled:`,
  );
  console.log(
    `  the server: ${perToken.toFixed(2)} µs CPU per token (target <= 4), ` +
      `${fmt(rate(p.tokens, p.ms)).trimStart()} tokens/s${ok ? "" : "   TOKENS LOST OR REORDERED"}`,
  );
  console.log(
    `  reading and parsing the same stream, nothing else: ${floor.toFixed(2)} µs CPU per token ` +
      `(Node's HTTP client and JSON.parse per event); the server: ${(perToken / floor).toFixed(2)}x that`,
  );
}

/** Bytes of the database and its WAL. */
function storeBytes(dataDir: string): number {
  return ["thinkscope.db", "thinkscope.db-wal"]
    .map((name) => join(dataDir, name))
    .filter((file) => existsSync(file))
    .reduce((sum, file) => sum + statSync(file).size, 0);
}

/** What the run store takes on disk per streamed token: one long run, then an experiment. */
async function storage(fake: FakeVllm): Promise<void> {
  console.log("bytes on disk (database and WAL) per streamed token (target <= 16):");
  const single = await startBenchServer({ THINKSCOPE_BACKEND: `vllm:${fake.baseUrl}` });
  try {
    const before = storeBytes(single.dataDir);
    const key = newKey("stored");
    const p = await proxied(
      single,
      fake,
      key,
      { think: 20_000, answer: 16 },
      { max_thinking_tokens: 20_100, max_answer_tokens: 16 },
    );
    fake.forget(key);
    const bytes = storeBytes(single.dataDir) - before;
    console.log(
      `  one run of ${p.tokens.toLocaleString("en-US")} tokens: ${(bytes / p.tokens).toFixed(1)} bytes per token`,
    );
  } finally {
    await single.stop();
  }

  const lab = await startBenchServer({ THINKSCOPE_BACKEND: `vllm:${fake.baseUrl}` });
  try {
    const before = storeBytes(lab.dataDir);
    const tokensPerRun = 1_000;
    const runs = Math.ceil(LONG_TOKENS / (tokensPerRun + 20));
    const samples = 4;
    const created = await fetch(`${lab.url}/api/experiments`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        name: "storage",
        dataset: { generator: { seed: 1, count: Math.ceil(runs / samples), digits: 3 } },
        prompt: {
          mode: "raw",
          template: `<|im_start|>user\n${runMarker(newKey("lab"), { think: tokensPerRun, answer: 20 })} {problem}<|im_end|>\n<|im_start|>assistant\n<think>\n`,
        },
        budget_forcing: { max_thinking_tokens: tokensPerRun + 50, max_answer_tokens: 30 },
        samples,
        concurrency: 8,
      }),
    });
    const { id } = (await created.json()) as { id: string };
    const started = performance.now();
    let detail: { status: string; progress: { tokens: number } };
    for (;;) {
      detail = (await (await fetch(`${lab.url}/api/experiments/${id}`)).json()) as typeof detail;
      if (detail.status !== "running") break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const seconds = (performance.now() - started) / 1000;
    const bytes = storeBytes(lab.dataDir) - before;
    const tokens = detail.progress.tokens;
    console.log(
      `  an experiment of ${tokens.toLocaleString("en-US")} tokens (${runs} runs, ${detail.status}, ` +
        `${seconds.toFixed(0)} s): ${(bytes / tokens).toFixed(1)} bytes per token`,
    );
    // What the page asks for when it opens the experiment: the record with its results.
    const opened = performance.now();
    await (await fetch(`${lab.url}/api/experiments/${id}`)).json();
    console.log(
      `  its results page's data: ${(performance.now() - opened).toFixed(0)} ms (target < 1,000)`,
    );
  } finally {
    await lab.stop();
  }
}
const fmt = (n: number) => Math.round(n).toLocaleString("en-US").padStart(8);

export async function run(): Promise<void> {
  const fake = await startFakeVllm({
    tokensPerSecond: 0,
    tokensPerChunk: 1,
    maxModelLen: 2 * LONG_TOKENS,
  });
  const server = await startBenchServer({ THINKSCOPE_BACKEND: `vllm:${fake.baseUrl}` });
  try {
    // Warm up both paths (JIT, connections, the tokenizer round-trips).
    await direct(fake, 2_000);
    await proxied(server, fake, newKey("warm"), { think: 2_000, answer: 16 }, {});

    let directBest = 0;
    let directCpu = Infinity;
    let proxiedBest = 0;
    let serverCpu = Infinity;
    let serverShare = 0;
    let waitNote = "";
    let proxiedIntact = true;
    for (let round = 0; round < ROUNDS; round++) {
      const ownCpu = process.cpuUsage();
      const d = await direct(fake, TOKENS);
      const own = process.cpuUsage(ownCpu);
      directBest = Math.max(directBest, rate(d.tokens, d.ms));
      directCpu = Math.min(directCpu, (own.user + own.system) / d.tokens);

      const key = newKey("single");
      const cpuBefore = await server.cpuMicros();
      const schedBefore = [schedStat(server.pid), schedStat("self")] as const;
      const p = await proxied(
        server,
        fake,
        key,
        { think: TOKENS, answer: 16 },
        { max_thinking_tokens: TOKENS + 100, max_answer_tokens: 16, num_waits: 0 },
      );
      const used = (await server.cpuMicros()) - cpuBefore;
      proxiedIntact &&= p.done && intact(fake, key, p);
      if (rate(p.tokens, p.ms) > proxiedBest) {
        proxiedBest = rate(p.tokens, p.ms);
        serverShare = used / 1000 / p.ms;
        waitNote = [
          cpuWaitNote("the server", schedBefore[0], schedStat(server.pid), p.ms),
          cpuWaitNote("the upstream and client", schedBefore[1], schedStat("self"), p.ms),
        ]
          .filter(Boolean)
          .join(", ");
      }
      serverCpu = Math.min(serverCpu, used / p.tokens);
      fake.forget(key);
    }
    const ratio = proxiedBest / directBest;
    console.log(
      `one stream of ${TOKENS.toLocaleString("en-US")} tokens as fast as the upstream goes, one token per chunk, best of ${ROUNDS}:`,
    );
    console.log(
      `  direct from the upstream                 ${fmt(directBest)} tokens/s   ` +
        `(upstream + client: ${directCpu.toFixed(1)} µs CPU per token)`,
    );
    console.log(
      `  through /v1/completions + budget_forcing ${fmt(proxiedBest)} tokens/s   ` +
        `ratio ${ratio.toFixed(2)} (target >= 0.5, aim 0.9)${proxiedIntact ? "" : "   TOKENS LOST OR REORDERED"}`,
    );
    console.log(
      `  the server: ${serverCpu.toFixed(1)} µs CPU per token, ${(serverShare * 100).toFixed(0)}% of a core while streaming`,
    );
    if (waitNote) console.log(`  on this machine ${waitNote}`);

    await longRun(server, fake);
    await storage(fake);

    // At a pace a GPU gives one sequence, the only question is whether anything is lost on the way.
    const paced = { tokens: 4_000, tps: 2_000 };
    const d = await direct(fake, paced.tokens, paced.tps);
    const pacedKey = newKey("paced");
    const p = await proxied(
      server,
      fake,
      pacedKey,
      { think: paced.tokens, answer: 16, tps: paced.tps },
      { max_thinking_tokens: paced.tokens + 100, max_answer_tokens: 16 },
    );
    console.log(
      `one stream paced at ${paced.tps.toLocaleString("en-US")} tokens/s (faster than a GPU decodes one sequence):`,
    );
    console.log(
      `  direct ${fmt(rate(d.tokens, d.ms)).trimStart()} tokens/s, through Thinkscope ` +
        `${fmt(rate(p.tokens, p.ms)).trimStart()} tokens/s: ` +
        `${((rate(p.tokens, p.ms) / rate(d.tokens, d.ms)) * 100).toFixed(1)}% of direct` +
        `${p.done && intact(fake, pacedKey, p) ? "" : "   TOKENS LOST OR REORDERED"}`,
    );
    fake.forget(pacedKey);

    // Many at once, each paced like one sequence of a busy GPU, so all are open together:
    // each thinks, gets a Wait, thinks again, closes and answers.
    const shape = { think: 300, answer: 30, tps: STREAM_TPS };
    const keys = Array.from({ length: STREAMS }, () => newKey("many"));
    // The same load read directly, as a baseline for what this machine's harness holds.
    const directStarted = performance.now();
    const directMany = await Promise.all(
      keys.map(() => direct(fake, 2 * shape.think + shape.answer, shape.tps)),
    );
    const directWall = performance.now() - directStarted;
    const directRates = directMany.map((d) => rate(d.tokens, d.ms));
    const directTokens = directMany.reduce((n, d) => n + d.tokens, 0);
    fake.stats.maxActiveStreams = 0;
    const cpuBefore = await server.cpuMicros();
    const ownBefore = process.cpuUsage();
    const schedBefore = [schedStat(server.pid), schedStat("self")] as const;
    const started = performance.now();
    const streams = await Promise.all(
      keys.map((key) =>
        proxied(server, fake, key, shape, {
          num_waits: 1,
          max_thinking_tokens: 1_000,
          max_answer_tokens: 100,
        }).catch((error: unknown) => ({ error }) as ProxiedStream),
      ),
    );
    const wall = performance.now() - started;
    const manyCpu = (await server.cpuMicros()) - cpuBefore;
    const ownUsed = process.cpuUsage(ownBefore);
    const manyWait = [
      cpuWaitNote("the server", schedBefore[0], schedStat(server.pid), wall),
      cpuWaitNote("the upstream and clients", schedBefore[1], schedStat("self"), wall),
    ]
      .filter(Boolean)
      .join(", ");
    const completed = streams.filter((s) => s.status === 200 && s.done && !s.error).length;
    const intactCount = streams.filter((s, i) => s.done && intact(fake, keys[i]!, s)).length;
    const shaped = streams.filter(
      (s) => s.injected.join(",") === "wait,end" && s.summary?.waits === 1,
    ).length;
    const tokens = keys.reduce((n, key) => n + fake.sentIds(key).length, 0);
    const expected = STREAMS * (2 * shape.think + shape.answer);
    const rates = streams.filter((s) => s.ms > 0).map((s) => rate(s.tokens, s.ms));
    const mean = rates.reduce((a, b) => a + b, 0) / Math.max(1, rates.length);
    console.log(
      `${STREAMS} concurrent budget-forced streams through Thinkscope, the upstream pacing each at ${STREAM_TPS} tokens/s:`,
    );
    console.log(
      `  direct, as a baseline: ${fmt(rate(directTokens, directWall)).trimStart()} tokens/s in all; per stream ` +
        `${(directRates.reduce((a, b) => a + b, 0) / STREAMS).toFixed(1)} tokens/s on average, ` +
        `${Math.min(...directRates).toFixed(1)} the slowest`,
    );
    console.log(
      `  completed ${completed}/${STREAMS}, tokens intact and in order ${intactCount}/${STREAMS}, ` +
        `wait + close as asked ${shaped}/${STREAMS}, ${fake.stats.maxActiveStreams} upstream streams open at once at most`,
    );
    console.log(
      `  ${tokens.toLocaleString("en-US")} tokens (expected ${expected.toLocaleString("en-US")}) in ` +
        `${(wall / 1000).toFixed(1)} s: ${fmt(rate(tokens, wall)).trimStart()} tokens/s in all; ` +
        `per stream ${mean.toFixed(1)} tokens/s on average, ${Math.min(...rates).toFixed(1)} the slowest ` +
        `(prefill round-trips included); first token after ` +
        `${(streams.reduce((n, s) => n + s.firstMs, 0) / STREAMS / 1000).toFixed(2)} s on average, ` +
        `${(Math.max(...streams.map((s) => s.firstMs)) / 1000).toFixed(2)} s at most; CPU: the server ${((manyCpu / 1000 / wall) * 100).toFixed(0)}% of a core, ` +
        `the upstream and clients ${(((ownUsed.user + ownUsed.system) / 1000 / wall) * 100).toFixed(0)}%`,
    );
    if (manyWait) console.log(`  on this machine ${manyWait}`);
    const failures = streams.filter((s) => s.error).slice(0, 3);
    for (const failure of failures) console.log(`  failure: ${JSON.stringify(failure.error)}`);
  } finally {
    await server.stop();
    await fake.close();
  }
}
