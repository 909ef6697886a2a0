/**
 * A class on one Thinkscope instance (docs/deploy.md): simulated students, each a
 * WebSocket client like the page, signed in with the class token, running
 * budget-forced chat runs one after another (1-2 waits, a few hundred
 * thinking tokens, a short pause between runs) against a local vLLM-compatible
 * upstream (bench/fake-vllm.ts) that paces every stream like a shared GPU.
 * The server runs in its own process with a classroom's operator limits.
 *
 * Reports: tokens/s held, each student's share of tokens against the mean
 * (the slowest one), time to first token, the server's memory after a full
 * GC at the start, after warm-up and at the end (bound: no more than
 * 20 MB of heap growth after warm-up), its CPU, and whether every run's
 * tokens arrived complete and in order (each run's streamed token ids
 * compared with the ids the upstream sent for it).
 *
 * Loopback only; every loop is bounded by the duration, and a safety timer
 * stops everything if runs do not finish. Settings (environment):
 * BENCH_CLASSROOM_STUDENTS (100), BENCH_CLASSROOM_SECONDS (180),
 * BENCH_CLASSROOM_TPS (40: tokens/s per stream from the upstream).
 */
import { randomBytes } from "node:crypto";
import type { EngineEvent } from "@thinkscope/protocol";
import type { ServerMessage } from "@thinkscope/protocol";
import { WebSocket } from "ws";
import { cpuWaitNote, schedStat, startBenchServer, type BenchServer } from "./bench-server.ts";
import { runMarker, startFakeVllm, type FakeVllm } from "./fake-vllm.ts";

const STUDENTS = Number(process.env.BENCH_CLASSROOM_STUDENTS ?? 100);
const SECONDS = Number(process.env.BENCH_CLASSROOM_SECONDS ?? 180);
const TOKENS_PER_SECOND = Number(process.env.BENCH_CLASSROOM_TPS ?? 40);
const HEAP_GROWTH_BOUND_MB = 20;
/** Runs still going at the end get this long to finish before the benchmark gives up on them. */
const DRAIN_MS = 60_000;

const LIMITS = {
  THINKSCOPE_MAX_CONCURRENT_RUNS_PER_CLIENT: "2",
  THINKSCOPE_RATE_LIMIT_PER_MINUTE: "120",
  THINKSCOPE_MAX_THINKING_TOKENS_CAP: "1024",
  THINKSCOPE_MAX_ANSWER_TOKENS_CAP: "256",
  THINKSCOPE_MAX_WAITS_CAP: "4",
  // Every student connects from this machine: a class behind one address, which
  // needs the per-address limits raised to the class's size (docs/deploy.md).
  THINKSCOPE_MAX_CONNECTIONS_PER_ADDRESS: String(STUDENTS * 2),
  THINKSCOPE_MAX_CONCURRENT_RUNS_PER_ADDRESS: String(STUDENTS * 2),
  THINKSCOPE_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: String(STUDENTS * 120),
};

/** A small seeded generator, so every run of the benchmark asks for the same work. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface RunRecord {
  key: string;
  sentAt: number;
  firstTokenAt: number | null;
  endedAt: number | null;
  ids: number[];
  tokens: number;
  finishReason: string | null;
  error: { code: string; message: string } | null;
  verdict: "intact" | "lost or misordered" | null;
}

/** One student: a page's WebSocket, runs one at a time with pauses. */
class Student {
  readonly runs: RunRecord[] = [];
  tokens = 0;
  private socket: WebSocket | undefined;
  private readonly waiting = new Map<string, () => void>();
  private readonly next: () => number;

  constructor(
    readonly index: number,
    private readonly fake: FakeVllm,
    private readonly counter: { tokens: number },
  ) {
    this.next = random(1000 + index);
  }

  async connect(server: BenchServer, token: string): Promise<void> {
    const login = await fetch(`${server.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token }),
    });
    if (login.status !== 204) throw new Error(`student ${this.index}: login ${login.status}`);
    const cookie = login.headers.get("set-cookie")!.split(";", 1)[0]!;
    const socket = new WebSocket(`${server.url.replace(/^http/, "ws")}/ws`, {
      headers: { cookie, origin: server.url },
    });
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("unexpected-response", (_request, response) =>
        reject(new Error(`student ${this.index}: upgrade refused ${response.statusCode}`)),
      );
      socket.once("error", reject);
    });
    socket.on("message", (data) => this.receive(JSON.parse(data.toString()) as ServerMessage));
  }

  /** Runs until `deadline`, then lets the last run finish. */
  async work(deadline: number, stagger: boolean): Promise<void> {
    // Students do not all press Run in the same second.
    if (stagger) await sleep(this.next() * 3_000);
    while (performance.now() < deadline) {
      await this.runOnce();
      await sleep(1_000 + this.next() * 2_000);
    }
  }

  close(): void {
    this.socket?.close();
  }

  private async runOnce(): Promise<void> {
    const key = `s${this.index}-r${this.runs.length}`;
    const think = 80 + Math.floor(this.next() * 120);
    const answer = 20 + Math.floor(this.next() * 20);
    const budgetForcing = {
      num_waits: 1 + Math.floor(this.next() * 2),
      max_thinking_tokens: 200 + 50 * Math.floor(this.next() * 7),
      max_answer_tokens: 128,
    };
    const run: RunRecord = {
      key,
      sentAt: performance.now(),
      firstTokenAt: null,
      endedAt: null,
      ids: [],
      tokens: 0,
      finishReason: null,
      error: null,
      verdict: null,
    };
    this.runs.push(run);
    const ended = new Promise<void>((resolve) => this.waiting.set(key, resolve));
    this.socket!.send(
      JSON.stringify({
        type: "run",
        key,
        spec: {
          prompt: `${runMarker(key, { think, answer })} Is 1001 a prime number?`,
          mode: "chat",
          budget_forcing: budgetForcing,
        },
      }),
    );
    await ended;
    const sent = this.fake.sentIds(key);
    run.verdict =
      run.error === null &&
      sent.length === run.ids.length &&
      sent.every((id, i) => id === run.ids[i])
        ? "intact"
        : "lost or misordered";
    this.fake.forget(key);
    run.ids = [];
  }

  private receive(message: ServerMessage): void {
    if (message.type === "error" && message.key !== undefined) {
      const run = this.runs.find((r) => r.key === message.key);
      if (run) {
        run.error = { code: message.code, message: message.message };
        run.endedAt = performance.now();
      }
      this.waiting.get(message.key ?? "")?.();
      return;
    }
    if (message.type !== "events") return;
    for (const { key, event } of message.items) {
      const run =
        this.runs.at(-1)?.key === key ? this.runs.at(-1)! : this.runs.find((r) => r.key === key);
      if (run) this.apply(run, event);
    }
  }

  private apply(run: RunRecord, event: EngineEvent): void {
    if (event.type === "delta") {
      run.firstTokenAt ??= performance.now();
      if (event.tokenIds) run.ids.push(...event.tokenIds);
      run.tokens += event.tokens;
      this.tokens += event.tokens;
      this.counter.tokens += event.tokens;
    } else if (event.type === "run.finished") {
      run.finishReason = event.finishReason;
      run.endedAt = performance.now();
      this.waiting.get(run.key)?.();
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] ??
  0;

export async function run(): Promise<void> {
  const fake = await startFakeVllm({ tokensPerSecond: TOKENS_PER_SECOND, tokensPerChunk: 1 });
  const token = randomBytes(24).toString("hex");
  const server = await startBenchServer({
    THINKSCOPE_BACKEND: `vllm:${fake.baseUrl}`,
    THINKSCOPE_AUTH_TOKEN: token,
    ...LIMITS,
  });
  const counter = { tokens: 0 };
  const students = Array.from({ length: STUDENTS }, (_, i) => new Student(i, fake, counter));
  const safety = setTimeout(
    () => {
      console.log("  the safety timer fired: closing every student");
      for (const student of students) student.close();
    },
    (SECONDS * 1000 + 2 * DRAIN_MS + 30_000) | 0,
  );
  try {
    const memoryStart = await server.memory(true);
    for (const student of students) await student.connect(server, token);

    console.log(
      `${STUDENTS} students over WebSockets for ${SECONDS} s (warm-up included), the upstream pacing each stream at ` +
        `${TOKENS_PER_SECOND} tokens/s; token on, limits ${Object.entries(LIMITS)
          .map(([k, v]) => `${k.replace("THINKSCOPE_", "")}=${v}`)
          .join(" ")}`,
    );
    const started = performance.now();
    const cpuStart = await server.cpuMicros();
    const schedStart = schedStat(server.pid);
    let rssPeak = 0;
    const sampler = setInterval(() => {
      void server.memory(false).then((m) => (rssPeak = Math.max(rssPeak, m.rss)));
    }, 5_000);
    /** Every student works until `until`; resolves once their last runs are over (or DRAIN_MS later). */
    const phase = async (until: number, stagger: boolean) => {
      const working = Promise.all(students.map((student) => student.work(until, stagger)));
      await sleep(Math.max(0, until - performance.now()));
      const tokensAtEnd = counter.tokens;
      const endedAt = performance.now();
      await Promise.race([working, sleep(DRAIN_MS)]);
      return { tokensAtEnd, endedAt };
    };

    // Warm-up, then a pause with every student connected and no run going: the
    // heap measured there and at the end is the same state, so any difference is growth.
    const warmUpMs = Math.min(30_000, SECONDS * 200);
    await phase(started + warmUpMs, true);
    const memoryWarm = await server.memory(true);
    const mainStart = performance.now();
    const tokensAtMain = counter.tokens;
    const main = await phase(mainStart + SECONDS * 1000 - warmUpMs, true);
    clearInterval(sampler);
    const ended = performance.now();
    const cpuUsed = (await server.cpuMicros()) - cpuStart;
    const waitNote = cpuWaitNote("the server", schedStart, schedStat(server.pid), ended - started);
    const memoryEnd = await server.memory(true);
    rssPeak = Math.max(rssPeak, memoryEnd.rss);

    const runs = students.flatMap((s) => s.runs);
    const finished = runs.filter((r) => r.finishReason !== null);
    const refused = runs.filter((r) => r.error !== null);
    const unfinished = runs.length - finished.length - refused.length;
    const intact = runs.filter((r) => r.verdict === "intact").length;
    const broken = runs.filter(
      (r) => r.verdict === "lost or misordered" && r.error === null,
    ).length;
    const perStudent = students.map((s) => s.tokens);
    const slowest = Math.min(...perStudent);
    const streamRates = finished
      .filter((r) => r.firstTokenAt !== null && r.endedAt! > r.firstTokenAt!)
      .map((r) => (r.tokens * 1000) / (r.endedAt! - r.firstTokenAt!));
    const firstToken = finished
      .filter((r) => r.firstTokenAt !== null)
      .map((r) => r.firstTokenAt! - r.sentAt);
    const steady =
      ((main.tokensAtEnd - tokensAtMain) * 1000) / Math.max(1, main.endedAt - mainStart);
    const growth = memoryEnd.heapUsed - memoryWarm.heapUsed;

    console.log(
      `  runs: ${finished.length} finished, ${refused.length} refused, ${unfinished} unfinished; ` +
        `tokens complete and in order in ${intact}/${runs.length} runs` +
        (broken > 0 ? `, LOST OR MISORDERED in ${broken}` : ""),
    );
    if (refused.length > 0) {
      const codes = new Map<string, number>();
      for (const r of refused) codes.set(r.error!.code, (codes.get(r.error!.code) ?? 0) + 1);
      console.log(`  refusals: ${[...codes].map(([c, n]) => `${c} x${n}`).join(", ")}`);
    }
    console.log(
      `  tokens/s held after warm-up: ${steady.toFixed(0)} (${counter.tokens.toLocaleString("en-US")} tokens in all); ` +
        `per stream ${mean(streamRates).toFixed(1)} tokens/s on average, ${Math.min(...streamRates).toFixed(1)} the slowest run`,
    );
    console.log(
      `  per student: ${mean(perStudent).toFixed(0)} tokens on average, the slowest student ${slowest} ` +
        `(${((slowest / mean(perStudent)) * 100).toFixed(0)}% of the mean), the most ${Math.max(...perStudent)}`,
    );
    console.log(
      `  first token after ${(mean(firstToken) / 1000).toFixed(2)} s on average, ` +
        `${(percentile(firstToken, 0.95) / 1000).toFixed(2)} s at the 95th percentile, ` +
        `${(Math.max(...firstToken) / 1000).toFixed(2)} s at most`,
    );
    console.log(
      `  server heap after GC: start ${mb(memoryStart.heapUsed)} MB; with the class connected and idle, ` +
        `after ${(warmUpMs / 1000).toFixed(0)} s warm-up ${mb(memoryWarm.heapUsed)} MB, at the end ` +
        `${mb(memoryEnd.heapUsed)} MB: ` +
        `${growth >= 0 ? "+" : ""}${mb(growth)} MB after warm-up ` +
        `(bound ${HEAP_GROWTH_BOUND_MB} MB: ${growth <= HEAP_GROWTH_BOUND_MB * 1024 * 1024 ? "within" : "EXCEEDED"})`,
    );
    console.log(
      `  server RSS: start ${mb(memoryStart.rss)} MB, peak ${mb(rssPeak)} MB, end ${mb(memoryEnd.rss)} MB; ` +
        `CPU ${((cpuUsed / 1000 / (ended - started)) * 100).toFixed(0)}% of a core, ` +
        `${(cpuUsed / Math.max(1, counter.tokens)).toFixed(1)} µs per token` +
        (waitNote ? `; ${waitNote}` : ""),
    );
  } finally {
    clearTimeout(safety);
    for (const student of students) student.close();
    await server.stop();
    await fake.close();
  }
}
