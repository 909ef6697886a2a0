/**
 * Hostile clients on one server: what ordinary clients feel, and what the
 * server's memory does, while one page reads nothing of the runs it started
 * and another client imports 200 MiB of runs (`POST /api/runs/import`).
 *
 * An ordinary page starts a short run over the WebSocket every 200 ms, and
 * an API client a streamed completion every 200 ms (100 ms apart from the
 * page's); each one's first-token latency is measured from sending to its
 * first token. Three phases of the same run, side by side:
 *
 * 1. baseline: only the ordinary clients;
 * 2. a page that reads nothing: its socket paused, 20 runs that would each
 *    think a million tokens as fast as the upstream goes;
 * 3. that page still there, and a 200 MiB import (copies of a real run's
 *    exported line under new ids, written to a temporary file first).
 *
 * Per phase: first-token latency (median, p95, max) over each transport, and
 * the server's resident memory (at the start after a full GC, the peak and
 * the growth), plus what the hostile page cost the upstream and how the
 * import went. The server is a child process (bench-server.ts) in front of
 * the vLLM stand-in (fake-vllm.ts) streaming as fast as it is read.
 *
 * Settings (environment): BENCH_HOSTILE_SECONDS (10: the first two phases;
 * the third lasts until the import is answered, at least as long),
 * BENCH_HOSTILE_IMPORT_MB (200). Runs standalone too:
 * `npx tsx bench/hostile-client.ts`.
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { once } from "node:events";
import { pathToFileURL } from "node:url";
import type { ServerMessage } from "@thinkscope/protocol";
import { WebSocket } from "ws";
import { startBenchServer, type BenchServer } from "./bench-server.ts";
import { runMarker, startFakeVllm, type FakeVllm } from "./fake-vllm.ts";

const SECONDS = Number(process.env.BENCH_HOSTILE_SECONDS ?? 10);
const IMPORT_MB = Number(process.env.BENCH_HOSTILE_IMPORT_MB ?? 200);
const PROBE_EVERY_MS = 200;
const HOSTILE_RUNS = 20;
const HOSTILE_THINK = 1_000_000;
/** A probe with no first token after this long counts as timed out. */
const PROBE_TIMEOUT_MS = 60_000;
const MB = 1024 * 1024;

/** A short run: a few dozen tokens, done in milliseconds at the stand-in's speed. */
const probeBudget = { max_thinking_tokens: 64, num_waits: 0, max_answer_tokens: 16 };
const probePrompt = (key: string) => `${runMarker(key, { think: 20, answer: 5 })} Is 7 prime?`;

interface Phase {
  name: string;
  ws: number[];
  sse: number[];
  timedOut: number;
  rssStartMb: number;
  rssPeakMb: number;
}

/** An ordinary page: one WebSocket, a run every 200 ms, first-token latency per run. */
class OrdinaryPage {
  private readonly sentAt = new Map<string, number>();
  private readonly firstToken = new Map<string, number>();
  private next = 0;

  private constructor(private readonly socket: WebSocket) {
    socket.on("message", (data) => {
      const message = JSON.parse(data.toString()) as ServerMessage;
      if (message.type !== "events") return;
      for (const { key, event } of message.items) {
        if (event.type === "delta" && !this.firstToken.has(key) && this.sentAt.has(key)) {
          this.firstToken.set(key, performance.now() - this.sentAt.get(key)!);
        }
      }
    });
  }

  static async open(server: BenchServer): Promise<OrdinaryPage> {
    return new OrdinaryPage(await openSocket(server));
  }

  /** Starts a run; resolves with its first-token latency (ms), or null when none came in time. */
  async probe(): Promise<number | null> {
    const key = `page-${this.next++}`;
    this.sentAt.set(key, performance.now());
    this.socket.send(
      JSON.stringify({
        type: "run",
        key,
        spec: { prompt: probePrompt(key), mode: "chat", budget_forcing: probeBudget },
      }),
    );
    const deadline = performance.now() + PROBE_TIMEOUT_MS;
    while (!this.firstToken.has(key) && performance.now() < deadline) await sleep(5);
    return this.firstToken.get(key) ?? null;
  }

  close(): void {
    this.socket.close();
  }
}

/** An ordinary API client: a streamed budget-forced completion; resolves with its first-token latency. */
async function completionProbe(server: BenchServer, key: string): Promise<number | null> {
  const sentAt = performance.now();
  const response = await fetch(`${server.url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      prompt: probePrompt(key),
      stream: true,
      budget_forcing: probeBudget,
    }),
    signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
  }).catch(() => null);
  if (!response?.ok || !response.body) return null;
  let firstToken: number | null = null;
  const decoder = new TextDecoder();
  try {
    for await (const chunk of response.body) {
      if (firstToken === null && /"text":"[^"]/.test(decoder.decode(chunk, { stream: true }))) {
        firstToken = performance.now() - sentAt;
      }
    }
  } catch {
    // Timed out or cut off: what arrived before counts.
  }
  return firstToken;
}

/** Both ordinary clients probe every 200 ms (100 ms apart) until `until()` says stop. */
async function probePhase(
  name: string,
  server: BenchServer,
  page: OrdinaryPage,
  until: () => boolean,
): Promise<Phase> {
  const rssStart = (await server.memory(true)).rss;
  let rssPeak = rssStart;
  // One question at a time: a server whose event loop is blocked answers late.
  let asking = false;
  const sampler = setInterval(() => {
    if (asking) return;
    asking = true;
    void server.memory(false).then((m) => {
      rssPeak = Math.max(rssPeak, m.rss);
      asking = false;
    });
  }, 250);
  const phase: Phase = { name, ws: [], sse: [], timedOut: 0, rssStartMb: 0, rssPeakMb: 0 };
  const probes: Promise<void>[] = [];
  const record = (list: number[]) => (latency: number | null) => {
    if (latency === null) phase.timedOut += 1;
    else list.push(latency);
  };
  let sent = 0;
  while (!until()) {
    probes.push(page.probe().then(record(phase.ws)));
    await sleep(PROBE_EVERY_MS / 2);
    probes.push(completionProbe(server, `${name}-api-${sent++}`).then(record(phase.sse)));
    await sleep(PROBE_EVERY_MS / 2);
  }
  await Promise.all(probes);
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, (await server.memory(false)).rss);
  phase.rssStartMb = rssStart / MB;
  phase.rssPeakMb = rssPeak / MB;
  return phase;
}

/** A page that starts runs it will never read: its socket is paused before it asks. */
async function openHostilePage(server: BenchServer) {
  const socket = await openSocket(server);
  let closed: string | null = null;
  socket.on("close", (code, reason) => (closed = `${code} "${reason.toString()}"`));
  socket.pause();
  for (let i = 0; i < HOSTILE_RUNS; i += 1) {
    const key = `hostile-${i}`;
    socket.send(
      JSON.stringify({
        type: "run",
        key,
        spec: {
          prompt: `${runMarker(key, { think: HOSTILE_THINK })} Count to a million.`,
          mode: "chat",
          budget_forcing: { max_thinking_tokens: HOSTILE_THINK, num_waits: 0 },
        },
      }),
    );
  }
  return {
    /** Reads again and says how the server closed the socket (its close frame waits behind what was never read), if it did. */
    async closedBy(): Promise<string | null> {
      socket.resume();
      for (let waited = 0; closed === null && waited < 5_000; waited += 50) await sleep(50);
      socket.terminate();
      return closed;
    },
  };
}

/**
 * Writes about `megabytes` MiB of valid runs: the export line of one real
 * run, copied under new ids (the id is replaced wherever it appears, as in
 * its events).
 */
async function writeImportFile(server: BenchServer, dir: string, megabytes: number) {
  const key = "import-template";
  const made = await fetch(`${server.url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      prompt: `${runMarker(key, { think: 300, answer: 20 })} Is 1001 prime?`,
      budget_forcing: { max_thinking_tokens: 512, num_waits: 1, max_answer_tokens: 64 },
    }),
  });
  const id = made.headers.get("x-thinkscope-run-id");
  if (!made.ok || !id) throw new Error(`the template run failed: ${made.status}`);
  const exported = await (await fetch(`${server.url}/api/runs/export`)).text();
  const line = exported.split("\n").find((l) => l.includes(id));
  if (!line) throw new Error("the template run is not in the export");

  const path = join(dir, "runs.jsonl");
  const out = createWriteStream(path);
  let runs = 0;
  for (let size = 0; size < megabytes * MB; runs += 1) {
    const copy = line.split(id).join(`run_${randomBytes(8).toString("hex")}`) + "\n";
    size += Buffer.byteLength(copy);
    if (!out.write(copy)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  return { path, runs, bytes: statSync(path).size, lineBytes: Buffer.byteLength(line) };
}

async function postImport(server: BenchServer, path: string) {
  const startedAt = performance.now();
  const response = await fetch(`${server.url}/api/runs/import`, {
    method: "POST",
    headers: { "content-type": "application/x-ndjson" },
    body: Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>,
    duplex: "half",
  } as RequestInit);
  const body = await response.text();
  return { status: response.status, seconds: (performance.now() - startedAt) / 1000, body };
}

function openSocket(server: BenchServer): Promise<WebSocket> {
  const socket = new WebSocket(`${server.url.replace(/^http/, "ws")}/ws`);
  return new Promise((resolve, reject) => {
    socket.once("open", () => resolve(socket));
    socket.once("error", reject);
    socket.once("unexpected-response", (_request, response) =>
      reject(new Error(`upgrade refused: ${response.statusCode}`)),
    );
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

const ms = (value: number) => (Number.isNaN(value) ? "-" : `${value.toFixed(0)} ms`);

function printPhases(phases: Phase[]): void {
  const width = 26;
  const row = (label: string, cells: string[]) =>
    console.log(`  ${label.padEnd(30)}${cells.map((c) => c.padStart(width)).join("")}`);
  row(
    "",
    phases.map((p) => p.name),
  );
  for (const [label, pick] of [
    ["page (WebSocket) first token", (p: Phase) => p.ws],
    ["API (SSE) first token", (p: Phase) => p.sse],
  ] as const) {
    row(
      `${label}: median`,
      phases.map((p) => ms(percentile(pick(p), 0.5))),
    );
    row(
      "  p95",
      phases.map((p) => ms(percentile(pick(p), 0.95))),
    );
    row(
      "  max",
      phases.map((p) => ms(Math.max(...pick(p)))),
    );
  }
  row(
    "probes (timed out)",
    phases.map((p) => `${p.ws.length + p.sse.length} (${p.timedOut})`),
  );
  row(
    "server RSS at the start (GC'd)",
    phases.map((p) => `${p.rssStartMb.toFixed(0)} MB`),
  );
  row(
    "server RSS peak (growth)",
    phases.map(
      (p) => `${p.rssPeakMb.toFixed(0)} MB (+${(p.rssPeakMb - p.rssStartMb).toFixed(0)} MB)`,
    ),
  );
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "thinkscope-hostile-"));
  let fake: FakeVllm | undefined;
  let server: BenchServer | undefined;
  try {
    // As fast as it is read: a page that reads nothing costs the upstream only what fits in the buffers.
    fake = await startFakeVllm({ tokensPerSecond: 0, maxModelLen: 10_000_000 });
    server = await startBenchServer({ THINKSCOPE_BACKEND: `vllm:${fake.baseUrl}` });
    const file = await writeImportFile(server, dir, IMPORT_MB);
    console.log(
      `probes: a page run over the WebSocket and a streamed completion, each every ${PROBE_EVERY_MS} ms; ` +
        `hostile: a page that reads nothing of ${HOSTILE_RUNS} runs of up to ${HOSTILE_THINK.toLocaleString("en-US")} ` +
        `tokens, and an import of ${(file.bytes / MB).toFixed(0)} MiB (${file.runs.toLocaleString("en-US")} runs ` +
        `of ${(file.lineBytes / 1024).toFixed(0)} KiB)`,
    );
    const page = await OrdinaryPage.open(server);
    await page.probe(); // Warm up the connection and the tokenizer path.
    const phaseEnd = (seconds: number) => {
      const end = performance.now() + seconds * 1000;
      return () => performance.now() >= end;
    };

    const phases: Phase[] = [];
    phases.push(await probePhase("baseline", server, page, phaseEnd(SECONDS)));

    const tokensBefore = fake.stats.tokens;
    const hostile = await openHostilePage(server);
    phases.push(await probePhase("a page reads nothing", server, page, phaseEnd(SECONDS)));
    const tokensWhileStalled = fake.stats.tokens - tokensBefore;

    let imported: Awaited<ReturnType<typeof postImport>> | undefined;
    const importing = postImport(server, file.path).then((result) => (imported = result));
    const minimum = phaseEnd(SECONDS);
    phases.push(
      await probePhase(`+ ${IMPORT_MB} MiB import`, server, page, () => !!imported && minimum()),
    );
    await importing;
    const tokensAll = fake.stats.tokens - tokensBefore;
    const closedWith = await hostile.closedBy();
    page.close();

    printPhases(phases);
    console.log(
      `  the page that reads nothing: the upstream generated ${tokensWhileStalled.toLocaleString("en-US")} tokens ` +
        `for its ${HOSTILE_RUNS} runs in the first ${SECONDS} s, ${tokensAll.toLocaleString("en-US")} by the end ` +
        `(they would think ${(HOSTILE_RUNS * HOSTILE_THINK).toLocaleString("en-US")}); ` +
        (closedWith ? `the server had closed it (${closedWith})` : "it was still open at the end"),
    );
    console.log(
      `  the import: HTTP ${imported!.status} after ${imported!.seconds.toFixed(1)} s` +
        (imported!.status === 200
          ? ` (${imported!.body.slice(0, 60)})`
          : `: ${imported!.body.slice(0, 200)}`),
    );
  } finally {
    await server?.stop();
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await run();
