import { afterEach, describe, expect, it } from "vitest";
import { createVllmBackend } from "../src/vllm/vllm-backend.ts";
import {
  closedPort,
  collect,
  jsonAnswer,
  neverAnswer,
  sseEvents,
  startReplayServer,
  streamChunks,
  streamForever,
  type Handler,
  type ReplayServer,
} from "./__fixtures__/replay-server.ts";
import { failureOf, finishOf, generateRequest, textOf, tokensOf } from "./__fixtures__/requests.ts";

const THINK_END = 151668;
const PROMPT = [
  151644, 872, 198, 3838, 374, 220, 17, 10, 17, 30, 151645, 198, 151644, 77091, 198, 151667, 198,
];

let server: ReplayServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function vllmWith(
  routes: Record<string, Handler>,
  options: { apiKey?: string; idleMs?: number; firstByteMs?: number } = {},
) {
  server = await startReplayServer(routes);
  return createVllmBackend({
    url: `${server.url}/v1`,
    model: "Qwen/QwQ-32B",
    apiKey: options.apiKey,
    timeouts: { idleMs: options.idleMs ?? 5_000, firstByteMs: options.firstByteMs ?? 5_000 },
  });
}

describe("vLLM backend replaying recorded /v1/completions streams", () => {
  it("replays a recorded vLLM stream that stops on the </think> token id, without the stop token in text or ids", async () => {
    const backend = await vllmWith(
      { "POST /v1/completions": streamChunks(sseEvents("vllm-completions-stop-token.sse.txt")) },
      { apiKey: "sk-test-secret" },
    );
    const session = await backend.openSession({});
    const events = await collect(
      session.generate(
        generateRequest({
          prompt: { tokens: PROMPT },
          stopTokenIds: [THINK_END],
          maxTokens: 512,
          sampling: { temperature: 0, seed: 7 },
        }),
      ),
    );

    const tokens = tokensOf(events);
    expect(tokens.map((event) => event.tokenIds)).toEqual([
      [32313],
      [11],
      [773, 358, 1184],
      [220, 17, 10, 17],
      [1084, 594, 220, 19, 13],
    ]);
    expect(tokens.map((event) => event.tokenCount)).toEqual([1, 1, 3, 4, 5]);
    expect(textOf(events)).toBe("Okay, so I need 2+2 It's 4.");
    expect(finishOf(events)).toEqual({
      type: "finish",
      reason: "stop",
      stoppedBy: { tokenId: THINK_END },
      usage: { promptTokensEvaluated: 1, promptTokensCached: 16, completionTokens: 15 },
    });

    const sent = server?.requests[0];
    expect(sent?.path).toBe("/v1/completions");
    expect(sent?.headers.authorization).toBe("Bearer sk-test-secret");
    expect(sent?.body).toMatchObject({
      model: "Qwen/QwQ-32B",
      prompt: PROMPT,
      max_tokens: 512,
      temperature: 0,
      seed: 7,
      stream: true,
      stream_options: { include_usage: true, continuous_usage_stats: true },
      return_token_ids: true,
      skip_special_tokens: false,
      include_stop_str_in_output: false,
      add_special_tokens: false,
      stop_token_ids: [THINK_END],
    });
    expect(sent?.body).not.toHaveProperty("logprobs");
  });

  it("replays a recorded vLLM stream that ends on the end-of-sequence token and reports endOfSequence", async () => {
    const backend = await vllmWith({
      "POST /v1/completions": streamChunks(sseEvents("vllm-completions-eos.sse.txt")),
    });
    const session = await backend.openSession({});
    const events = await collect(
      session.generate(generateRequest({ stopStrings: ["<|im_end|>"] })),
    );

    expect(textOf(events)).toBe("The answer is 4.");
    expect(tokensOf(events).flatMap((event) => event.tokenIds ?? [])).toEqual([
      785, 4226, 374, 220, 19, 13,
    ]);
    expect(finishOf(events)).toMatchObject({
      reason: "stop",
      endOfSequence: true,
      usage: { promptTokensCached: 32 },
    });
    expect(finishOf(events)?.stoppedBy).toBeUndefined();
    expect(server?.requests[0]?.body).toMatchObject({
      prompt: generateRequest().prompt.text,
      stop: ["<|im_end|>"],
    });
  });

  it("replays a recorded vLLM stream with probe logprobs keyed by token id, cut by max_tokens", async () => {
    const backend = await vllmWith({
      "POST /v1/completions": streamChunks(sseEvents("vllm-completions-probes-length.sse.txt")),
    });
    const session = await backend.openSession({});
    const events = await collect(
      session.generate(generateRequest({ probeTokenIds: [THINK_END], maxTokens: 4 })),
    );

    const probabilities = tokensOf(events).flatMap((event) => event.probeProbabilities ?? []);
    expect(probabilities).toHaveLength(4);
    expect(probabilities[0]).toBeCloseTo(0.01, 4);
    expect(probabilities[1]).toBeCloseTo(0.0001, 6);
    expect(probabilities[2]).toBeCloseTo(0.1, 4);
    expect(finishOf(events)).toMatchObject({ reason: "length" });
    expect(server?.requests[0]?.body).toMatchObject({
      logprobs: 20,
      logprob_token_ids: [THINK_END],
      return_tokens_as_token_ids: true,
    });
  });

  it("maps probes by token text when the server keys logprobs by text (older vLLM)", async () => {
    const chunk = (text: string, top: Record<string, number>, finish: string | null) =>
      `data: ${JSON.stringify({ id: "cmpl-1", object: "text_completion", created: 1, model: "m", choices: [{ index: 0, text, logprobs: { text_offset: [0], token_logprobs: [-0.1], tokens: [text], top_logprobs: [top] }, finish_reason: finish, stop_reason: null, token_ids: [14190] }] })}\n\n`;
    const backend = await vllmWith({
      "POST /v1/completions": streamChunks([
        chunk("Wait", { Wait: -0.1, "</think>": -1.6094 }, "length"),
        "data: [DONE]\n\n",
      ]),
      "POST /detokenize": jsonAnswer(200, { prompt: "</think>" }),
    });
    const session = await backend.openSession({});
    const events = await collect(session.generate(generateRequest({ probeTokenIds: [THINK_END] })));
    expect(tokensOf(events)[0]?.probeProbabilities?.[0]).toBeCloseTo(0.2, 4);
    expect(server?.requests.find((request) => request.path === "/detokenize")?.body).toEqual({
      model: "Qwen/QwQ-32B",
      tokens: [THINK_END],
    });
  });

  it("replays a recorded SGLang stream (no token_ids, matched_stop) counting tokens from running usage", async () => {
    const backend = await vllmWith({
      "POST /v1/completions": streamChunks(sseEvents("sglang-completions-stop-token.sse.txt")),
    });
    const session = await backend.openSession({});
    const events = await collect(session.generate(generateRequest({ stopTokenIds: [THINK_END] })));
    const tokens = tokensOf(events);
    expect(tokens.map((event) => event.tokenCount)).toEqual([1, 4, 3]);
    expect(tokens.every((event) => event.tokenIds === undefined)).toBe(true);
    expect(finishOf(events)).toMatchObject({
      reason: "stop",
      stoppedBy: { tokenId: THINK_END },
      usage: { completionTokens: 9 },
    });
  });
});

describe("vLLM backend endpoints", () => {
  it("lists models with their context length and uses the first one by default", async () => {
    server = await startReplayServer({
      "GET /v1/models": jsonAnswer(200, {
        object: "list",
        data: [
          {
            id: "Qwen/QwQ-32B",
            object: "model",
            created: 1741608000,
            owned_by: "vllm",
            root: "Qwen/QwQ-32B",
            parent: null,
            max_model_len: 32768,
            permission: [],
          },
        ],
      }),
      "POST /tokenize": jsonAnswer(200, {
        count: 3,
        max_model_len: 32768,
        tokens: [14190, 151668, 198],
        token_strs: null,
      }),
    });
    const backend = createVllmBackend({ url: `${server.url}/v1/` });
    expect(await backend.readiness()).toEqual({ state: "ready" });
    expect(await backend.listModels()).toEqual([{ id: "Qwen/QwQ-32B", contextLength: 32768 }]);
    expect(backend.capabilities).toMatchObject({
      exactTokenIds: true,
      tokenIdPrompts: true,
      stopTokenIds: true,
      logprobs: true,
      tokenizer: true,
      contextLength: 32768,
    });

    const session = await backend.openSession({});
    expect(await session.tokenize?.("Wait</think>\n", { special: true })).toEqual([
      14190, 151668, 198,
    ]);
    expect(server.requests.at(-1)?.body).toEqual({
      model: "Qwen/QwQ-32B",
      prompt: "Wait</think>\n",
      add_special_tokens: false,
    });
  });

  it("renders the model's own chat template through /tokenize and /detokenize", async () => {
    const rendered = "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n";
    const backend = await vllmWith({
      "POST /tokenize": jsonAnswer(200, {
        count: 17,
        max_model_len: 32768,
        tokens: PROMPT,
        token_strs: null,
      }),
      "POST /detokenize": jsonAnswer(200, { prompt: rendered }),
    });
    const text = await backend.applyChatTemplate?.([{ role: "user", content: "What is 2+2?" }], {});
    expect(text).toBe(rendered);
    expect(server?.requests.map((request) => request.body)).toEqual([
      {
        model: "Qwen/QwQ-32B",
        messages: [{ role: "user", content: "What is 2+2?" }],
        add_generation_prompt: true,
        add_special_tokens: false,
      },
      { model: "Qwen/QwQ-32B", tokens: PROMPT },
    ]);
  });

  it("passes an OpenAI request through unchanged, with the key, and returns the upstream response as is", async () => {
    const backend = await vllmWith(
      {
        "POST /v1/chat/completions": streamChunks(['data: {"choices":[]}\n\n', "data: [DONE]\n\n"]),
      },
      { apiKey: "sk-pass" },
    );
    const body = {
      model: "Qwen/QwQ-32B",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    };
    const response = await backend.passthrough?.({
      path: "/chat/completions",
      body,
      signal: new AbortController().signal,
    });
    expect(response?.status).toBe(200);
    expect(response?.headers.get("content-type")).toBe("text/event-stream");
    expect(await response?.text()).toBe('data: {"choices":[]}\n\ndata: [DONE]\n\n');
    expect(server?.requests[0]).toMatchObject({
      path: "/v1/chat/completions",
      body,
      headers: { authorization: "Bearer sk-pass" },
    });
  });

  it("reports an unreachable server as not ready, without throwing", async () => {
    const backend = createVllmBackend({ url: `${await closedPort()}/v1` });
    const readiness = await backend.readiness();
    expect(readiness.state).toBe("unavailable");
    expect(readiness.state === "unavailable" && readiness.message).toMatch(
      /cannot reach .*\/v1\/models \(connection refused\)/,
    );
  });
});

describe("vLLM backend failures", () => {
  const events = sseEvents("vllm-completions-stop-token.sse.txt");

  it("turns a refused connection into upstream_unreachable naming the URL but never the key", async () => {
    const url = `${await closedPort()}/v1`;
    const backend = createVllmBackend({ url, model: "m", apiKey: "sk-never-shown" });
    const session = await backend.openSession({});
    const error = await failureOf(session.generate(generateRequest()));
    expect(error).toMatchObject({ code: "upstream_unreachable", status: 502, retryable: true });
    expect(error.message).toContain(`${url}/completions`);
    expect(error.message).not.toContain("sk-never-shown");
  });

  it("turns a 5xx into upstream_error with the server's message", async () => {
    const backend = await vllmWith(
      {
        "POST /v1/completions": jsonAnswer(500, {
          error: {
            message: "CUDA out of memory (key sk-echoed)",
            type: "InternalServerError",
            param: null,
            code: 500,
          },
        }),
      },
      { apiKey: "sk-echoed" },
    );
    const session = await backend.openSession({});
    const error = await failureOf(session.generate(generateRequest()));
    expect(error).toMatchObject({ code: "upstream_error", status: 502, retryable: true });
    expect(error.message).toContain("HTTP 500: CUDA out of memory");
    expect(error.message).not.toContain("sk-echoed");
  });

  it("turns a 400 into a non-retryable upstream_error", async () => {
    const backend = await vllmWith({
      "POST /v1/completions": jsonAnswer(400, {
        object: "error",
        message: "This model's maximum context length is 32768 tokens.",
        type: "BadRequestError",
        param: null,
        code: 400,
      }),
    });
    const session = await backend.openSession({});
    const error = await failureOf(session.generate(generateRequest()));
    expect(error).toMatchObject({ code: "upstream_error", retryable: false });
    expect(error.message).toContain("maximum context length is 32768");
  });

  it("turns a connection dropped mid-stream into upstream_disconnected, after the tokens already streamed", async () => {
    const backend = await vllmWith({
      "POST /v1/completions": streamChunks(events.slice(0, 2), { after: "destroy" }),
    });
    const session = await backend.openSession({});
    const seen: string[] = [];
    const error = await failureOf(
      (async function* () {
        for await (const event of session.generate(generateRequest())) {
          if (event.type === "tokens") seen.push(event.text);
          yield event;
        }
      })(),
    );
    expect(seen).toEqual(["Okay", ","]);
    expect(error).toMatchObject({ code: "upstream_disconnected", status: 502 });
  });

  it("turns a stream that ends without a finish into upstream_disconnected", async () => {
    const backend = await vllmWith({ "POST /v1/completions": streamChunks(events.slice(0, 3)) });
    const session = await backend.openSession({});
    expect(await failureOf(session.generate(generateRequest()))).toMatchObject({
      code: "upstream_disconnected",
    });
  });

  it("turns malformed SSE data into upstream_malformed", async () => {
    const backend = await vllmWith({
      "POST /v1/completions": streamChunks([events[0] ?? "", 'data: {"choices":[{"text"\n\n']),
    });
    const session = await backend.openSession({});
    const error = await failureOf(session.generate(generateRequest()));
    expect(error).toMatchObject({ code: "upstream_malformed", retryable: false });
  });

  it("turns a body that is not SSE at all into upstream_malformed", async () => {
    const backend = await vllmWith({
      "POST /v1/completions": streamChunks(["<html>\n<body>Bad gateway</body>\n"]),
    });
    const session = await backend.openSession({});
    expect(await failureOf(session.generate(generateRequest()))).toMatchObject({
      code: "upstream_malformed",
    });
  });

  it("turns an error event mid-stream into upstream_error with its message", async () => {
    const backend = await vllmWith({
      "POST /v1/completions": streamChunks([
        events[0] ?? "",
        `data: ${JSON.stringify({ error: { message: "engine dead", type: "InternalServerError", param: null, code: 500 } })}\n\n`,
        "data: [DONE]\n\n",
      ]),
    });
    const session = await backend.openSession({});
    const error = await failureOf(session.generate(generateRequest()));
    expect(error).toMatchObject({ code: "upstream_error" });
    expect(error.message).toContain("engine dead");
  });

  it("turns a stalled stream into upstream_timeout 504", async () => {
    const backend = await vllmWith(
      { "POST /v1/completions": streamChunks(events.slice(0, 2), { after: "hang" }) },
      { idleMs: 200 },
    );
    const session = await backend.openSession({});
    const started = Date.now();
    const error = await failureOf(session.generate(generateRequest()));
    expect(error).toMatchObject({ code: "upstream_timeout", status: 504 });
    expect(error.message).toContain("went silent within 200 ms");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("does not mistake a slow consumer for a stalled server", async () => {
    const backend = await vllmWith(
      { "POST /v1/completions": streamChunks(events) },
      { idleMs: 100 },
    );
    const session = await backend.openSession({});
    const seen: string[] = [];
    for await (const event of session.generate(generateRequest())) {
      seen.push(event.type);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    expect(seen.at(-1)).toBe("finish");
  });

  it("fails at once when aborted while the consumer holds an event, even after the whole body arrived", async () => {
    const backend = await vllmWith({
      "POST /v1/completions": streamChunks(events, { delayMs: 0 }),
    });
    const session = await backend.openSession({});
    const controller = new AbortController();
    const error = await failureOf(
      (async function* () {
        for await (const event of session.generate(
          generateRequest({ signal: controller.signal }),
        )) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          controller.abort();
          yield event;
        }
      })(),
    );
    expect(error.name).toBe("AbortError");
  });

  it("cancels a running request when the session is closed", async () => {
    const backend = await vllmWith({
      "POST /v1/completions": streamForever(
        () =>
          `data: ${JSON.stringify({ choices: [{ index: 0, text: "a", finish_reason: null, token_ids: [1] }] })}\n\n`,
      ),
    });
    const session = await backend.openSession({});
    const run = collect(session.generate(generateRequest()));
    setTimeout(() => void session.close(), 100);
    expect((await failureOf(run)).name).toBe("AbortError");
    await expect(server?.nextClientAbort(1_000)).resolves.toBeTypeOf("number");
  });

  it("turns a server that never answers into upstream_timeout", async () => {
    const backend = await vllmWith({ "POST /v1/completions": neverAnswer }, { firstByteMs: 200 });
    const session = await backend.openSession({});
    expect(await failureOf(session.generate(generateRequest()))).toMatchObject({
      code: "upstream_timeout",
      status: 504,
    });
  });

  it("cancels the upstream request within a second when the consumer stops reading", async () => {
    const backend = await vllmWith({
      "POST /v1/completions": streamForever(
        (index) =>
          `data: ${JSON.stringify({ id: "c", object: "text_completion", created: 1, model: "m", choices: [{ index: 0, text: "a", finish_reason: null, stop_reason: null, token_ids: [index] }] })}\n\n`,
      ),
    });
    const session = await backend.openSession({});
    let received = 0;
    for await (const event of session.generate(generateRequest())) {
      if (event.type === "tokens") received++;
      if (received === 3) break;
    }
    const stoppedAt = Date.now();
    const closedAt = await server?.nextClientAbort();
    expect((closedAt ?? Infinity) - stoppedAt).toBeLessThan(1_000);
  });

  it("cancels the upstream request within a second when the request's signal aborts", async () => {
    const backend = await vllmWith({
      "POST /v1/completions": streamForever(
        () =>
          `data: ${JSON.stringify({ choices: [{ index: 0, text: "a", finish_reason: null, token_ids: [1] }] })}\n\n`,
      ),
    });
    const session = await backend.openSession({});
    const controller = new AbortController();
    const run = collect(session.generate(generateRequest({ signal: controller.signal })));
    setTimeout(() => controller.abort(), 100);
    const error = await failureOf(run);
    const abortedAt = Date.now();
    expect(error.name).toBe("AbortError");
    const closedAt = await server?.nextClientAbort();
    expect(Math.abs((closedAt ?? Infinity) - abortedAt)).toBeLessThan(1_000);
  });
});
