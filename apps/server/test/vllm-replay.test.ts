/**
 * The whole path against recorded vLLM output: the `openai` client, this
 * server, the engine and the vLLM adapter talking HTTP to a local server
 * that replays vLLM streams recorded byte for byte (the adapters' fixtures).
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  jsonAnswer,
  sseEvents,
  startReplayServer,
  streamChunks,
  type Handler,
  type ReplayServer,
} from "../../../packages/backends/test/__fixtures__/replay-server.ts";
import { createBackends } from "../src/backends/create-backends.ts";
import { buildTestApp, listen, withBudgetForcing, type TestApp } from "./helpers.ts";

const PROMPT_TEXT = "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n";
const PROMPT_IDS = [
  151644, 872, 198, 3838, 374, 220, 17, 10, 17, 30, 151645, 198, 151644, 77091, 198, 151667, 198,
];
/** Qwen's ids for the strings the engine tokenizes. */
const VOCABULARY: Record<string, number[]> = {
  [PROMPT_TEXT]: PROMPT_IDS,
  "</think>": [151668],
  // The forced close, which the context keeps room for: "\n", "</think>", "\n\n", "Final", " Answer", ":".
  "\n</think>\n\nFinal Answer:": [198, 151668, 271, 19357, 21806, 25],
  "<|im_end|>": [151645],
  Wait: [14190],
};

/** The upstream thinks (stopping on </think>), thinks again after the wait, then answers. */
const COMPLETIONS = [
  "vllm-completions-stop-token.sse.txt",
  "vllm-completions-stop-token.sse.txt",
  "vllm-completions-eos.sse.txt",
];

let upstream: ReplayServer;
let server: TestApp;
let client: OpenAI;
let completionRequests = 0;
/** When set, the upstream drops the connection after this many recorded events. */
let dropAfter: number | null = null;

beforeAll(async () => {
  const completions: Handler = (request, response, body) => {
    const fixture = COMPLETIONS[Math.min(completionRequests++, COMPLETIONS.length - 1)]!;
    if (dropAfter !== null) {
      return streamChunks(sseEvents(fixture).slice(0, dropAfter), { after: "destroy" })(
        request,
        response,
        body,
      );
    }
    return streamChunks(sseEvents(fixture))(request, response, body);
  };
  upstream = await startReplayServer({
    "GET /v1/models": jsonAnswer(200, {
      object: "list",
      data: [{ id: "Qwen/QwQ-32B", object: "model", owned_by: "vllm", max_model_len: 32768 }],
    }),
    "POST /tokenize": (request, response, body) => {
      const tokens = VOCABULARY[(body as { prompt: string }).prompt];
      const answer = tokens
        ? jsonAnswer(200, { count: tokens.length, max_model_len: 32768, tokens, token_strs: null })
        : jsonAnswer(400, { object: "error", message: "unexpected text to tokenize" });
      return answer(request, response, body);
    },
    "POST /v1/completions": completions,
  });
  // Built exactly as `THINKSCOPE_BACKEND=vllm:URL` builds it.
  const backends = await createBackends({
    backends: [`vllm:${upstream.url}/v1`],
    model: undefined,
    apiKey: "sk-replay-secret",
    dataDir: "/nonexistent",
    threads: undefined,
    enableTestBackends: false,
  });
  server = await buildTestApp({ backends });
  client = new OpenAI({ baseURL: `${await listen(server.app)}/v1`, apiKey: "x", maxRetries: 0 });
});
afterAll(async () => {
  await server.close();
  await upstream.close();
});

describe("budget forcing against a recorded vLLM stream", () => {
  it("streams /v1/completions: thinking, the wait, thinking again, the close, the answer", async () => {
    completionRequests = 0;
    const stream = await client.completions.create(
      withBudgetForcing(
        { model: "Qwen/QwQ-32B", prompt: PROMPT_TEXT, stream: true as const },
        { num_waits: 1 },
      ),
    );
    let text = "";
    const injected: string[] = [];
    let summary: Record<string, unknown> | undefined;
    for await (const raw of stream) {
      const chunk = raw as unknown as {
        choices: Array<{ text?: string; injected?: string }>;
        budget_forcing?: Record<string, unknown>;
      };
      text += chunk.choices[0]?.text ?? "";
      if (chunk.choices[0]?.injected) injected.push(chunk.choices[0].injected);
      summary = chunk.budget_forcing ?? summary;
    }
    const thought = "Okay, so I need 2+2 It's 4.";
    expect(text).toBe(`${thought}Wait${thought}</think>The answer is 4.`);
    expect(injected).toEqual(["wait", "end"]);
    // Exact counts from vLLM's token ids: 14 ids per thought (the stop id excluded), 1 for Wait.
    expect(summary).toMatchObject({
      thinking_tokens: 14 + 1 + 14,
      answer_tokens: 6,
      waits: 1,
      token_counts_exact: true,
      upstream_requests: 3,
    });

    // Every continuation went upstream as token ids, the wait's included.
    const sent = upstream.requests
      .filter((r) => r.path === "/v1/completions")
      .map((r) => r.body as { prompt: number[] });
    expect(sent[1]!.prompt.slice(-15)).toEqual([
      32313, 11, 773, 358, 1184, 220, 17, 10, 17, 1084, 594, 220, 19, 13, 14190,
    ]);
    expect(sent[2]!.prompt.at(-1)).toBe(151668);
  });

  it("answers 502 when vLLM drops the connection mid-stream, keeping the partial run", async () => {
    completionRequests = 0;
    dropAfter = 3;
    try {
      const response = await server.app.inject({
        method: "POST",
        url: "/v1/completions",
        payload: { prompt: PROMPT_TEXT, budget_forcing: {} },
      });
      expect(response.statusCode).toBe(502);
      const { error } = response.json();
      expect(error.message).toMatch(/^vllm: /);
      expect(server.app.runStore.get(error.run_id)).toMatchObject({
        status: "error",
        text: "Okay, so I need",
        error: { code: error.code },
      });
    } finally {
      dropAfter = null;
    }
  });
});
