/**
 * The runner keeps a server backend busy: an experiment on the vLLM adapter,
 * talking HTTP to a local server that replays recorded vLLM streams slowly,
 * has the configured number of requests open at the upstream at once.
 */
import type { ExperimentDetail } from "@thinkscope/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  jsonAnswer,
  sseEvents,
  startReplayServer,
  streamChunks,
  type ReplayServer,
} from "../../../packages/backends/test/__fixtures__/replay-server.ts";
import { createBackends } from "../src/backends/create-backends.ts";
import { buildTestApp, waitFor, type TestApp } from "./helpers.ts";

const PROMPT_TEXT = "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n";
const VOCABULARY: Record<string, number[]> = {
  [PROMPT_TEXT]: [
    151644, 872, 198, 3838, 374, 220, 17, 10, 17, 30, 151645, 198, 151644, 77091, 198, 151667, 198,
  ],
  "</think>": [151668],
  // The forced close, which the context keeps room for.
  "\n</think>\n\nFinal Answer:": [198, 151668, 271, 19357, 21806, 25],
  "<|im_end|>": [151645],
  Wait: [14190],
};
const END_OF_THINKING = 151668;
/** A run streams 13 chunks over two requests: about 0.65 s, short against real runs. */
const CHUNK_DELAY_MS = 50;

let upstream: ReplayServer;
let server: TestApp;
/** Requests open at the upstream over time: [ms since the first, count]. */
const openOverTime: Array<[number, number]> = [];
let open = 0;
let firstAt = 0;

function opened(delta: number) {
  open += delta;
  const now = performance.now();
  if (openOverTime.length === 0) firstAt = now;
  openOverTime.push([Math.round(now - firstAt), open]);
}

beforeAll(async () => {
  upstream = await startReplayServer({
    "GET /v1/models": jsonAnswer(200, {
      object: "list",
      data: [{ id: "Qwen/QwQ-32B", object: "model", owned_by: "vllm", max_model_len: 32768 }],
    }),
    "POST /tokenize": (request, response, body) => {
      const tokens = VOCABULARY[(body as { prompt: string }).prompt];
      return jsonAnswer(200, { count: tokens?.length ?? 0, max_model_len: 32768, tokens })(
        request,
        response,
        body,
      );
    },
    // Thinking until </think>, then (the prompt holding the close) the answer.
    "POST /v1/completions": (request, response, body) => {
      opened(1);
      response.on("close", () => opened(-1));
      const answering = (body as { prompt: number[] }).prompt.includes(END_OF_THINKING);
      const fixture = answering
        ? "vllm-completions-eos.sse.txt"
        : "vllm-completions-stop-token.sse.txt";
      return streamChunks(sseEvents(fixture), { delayMs: CHUNK_DELAY_MS })(request, response, body);
    },
  });
  const backends = await createBackends({
    backends: [`vllm:${upstream.url}/v1`],
    model: undefined,
    apiKey: undefined,
    dataDir: "/nonexistent",
    threads: undefined,
    enableTestBackends: false,
  });
  server = await buildTestApp({ backends });
});
afterAll(async () => {
  await server.close();
  await upstream.close();
});

describe("an experiment on a server backend", () => {
  it("has the configured number of requests open at the upstream at once", async () => {
    const problems = Array.from({ length: 24 }, (_, i) =>
      JSON.stringify({ id: `q${i}`, problem: "What is 2+2?", answer: 4 }),
    ).join("\n");
    const response = await server.app.inject({
      method: "POST",
      url: "/api/experiments",
      payload: {
        dataset: { jsonl: problems },
        prompt: {
          mode: "raw",
          template: "<|im_start|>user\n{problem}<|im_end|>\n<|im_start|>assistant\n<think>\n",
        },
        concurrency: 8,
      },
    });
    expect(response.statusCode).toBe(201);
    const created = response.json() as ExperimentDetail;
    // A server backend's default bound, given explicitly here too.
    expect(created.spec.concurrency).toBe(8);
    await waitFor(
      async () =>
        (
          (
            await server.app.inject({ url: `/api/experiments/${created.id}` })
          ).json() as ExperimentDetail
        ).status !== "running",
      { timeoutMs: 30_000 },
    );
    const done = (
      await server.app.inject({ url: `/api/experiments/${created.id}` })
    ).json() as ExperimentDetail;
    expect(done.status).toBe("completed");
    expect(done.results.settings[0]!.accuracy).toBe(1);

    const peak = Math.max(...openOverTime.map(([, n]) => n));
    // A finished request's close can be seen just after its run's next request opens.
    expect(peak).toBeGreaterThanOrEqual(8);
    expect(peak).toBeLessThanOrEqual(9);
    // Time-weighted mean of open upstream requests while the experiment ran.
    let weighted = 0;
    for (let i = 1; i < openOverTime.length; i++) {
      weighted += openOverTime[i - 1]![1] * (openOverTime[i]![0] - openOverTime[i - 1]![0]);
    }
    const span = openOverTime.at(-1)![0];
    const mean = weighted / span;
    // The upstream's mean is below 8 by the gaps inside each run (its tokenize round trips and
    // store writes between its two requests), which grow with the machine's load; the runner's own
    // count of runs in flight does not: a runner that waited for a batch would give about 4.
    expect(done.throughput!.meanInFlight).toBeGreaterThan(6.5);
    expect(done.throughput!.peakInFlight).toBe(8);
    console.info(
      `vLLM replay, 24 runs (48 upstream requests) at concurrency 8 in ${span} ms: ` +
        `upstream requests open: peak ${peak}, mean ${mean.toFixed(2)}; ` +
        `runner in flight: mean ${done.throughput!.meanInFlight.toFixed(2)}; ` +
        `open over time ${JSON.stringify(downsample(openOverTime, 40))}`,
    );
  });
});

function downsample(points: Array<[number, number]>, count: number): Array<[number, number]> {
  const step = Math.max(1, Math.floor(points.length / count));
  return points.filter((_, i) => i % step === 0 || i === points.length - 1);
}
