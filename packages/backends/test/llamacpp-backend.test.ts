import { afterEach, describe, expect, it } from "vitest";
import { createLlamaCppBackend } from "../src/llamacpp/llamacpp-backend.ts";
import {
  collect,
  jsonAnswer,
  sseEvents,
  startReplayServer,
  streamChunks,
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

async function llamaWith(routes: Record<string, Handler>, apiKey?: string) {
  server = await startReplayServer(routes);
  return createLlamaCppBackend({
    url: server.url,
    apiKey,
    timeouts: { idleMs: 5_000, firstByteMs: 5_000 },
  });
}

describe("llama.cpp backend replaying recorded llama-server /completion streams", () => {
  it("replays a recorded llama-server stream, stops itself on the </think> id and closes the connection", async () => {
    const backend = await llamaWith(
      {
        "POST /completion": streamChunks(sseEvents("llamacpp-completion-stop-token.sse.txt"), {
          delayMs: 20,
        }),
      },
      "sk-llama",
    );
    const session = await backend.openSession({});
    const events = await collect(
      session.generate(
        generateRequest({
          prompt: { tokens: PROMPT },
          stopTokenIds: [THINK_END],
          maxTokens: 256,
          sampling: { temperature: 0, topP: 0.95, seed: 3 },
        }),
      ),
    );
    const stoppedAt = Date.now();

    expect(textOf(events)).toBe("Okay, so 2+2 is 4.\n");
    expect(tokensOf(events).flatMap((event) => event.tokenIds ?? [])).toEqual([
      32313, 11, 773, 220, 17, 10, 17, 374, 19, 13, 198,
    ]);
    expect(tokensOf(events).every((event) => event.tokenCount === event.tokenIds?.length)).toBe(
      true,
    );
    expect(finishOf(events)).toEqual({
      type: "finish",
      reason: "stop",
      stoppedBy: { tokenId: THINK_END },
      usage: { completionTokens: 12, promptTokensEvaluated: 1, promptTokensCached: 16 },
    });
    const closedAt = await server?.nextClientAbort();
    expect((closedAt ?? Infinity) - stoppedAt).toBeLessThan(1_000);

    const sent = server?.requests[0];
    expect(sent?.headers.authorization).toBe("Bearer sk-llama");
    expect(sent?.body).toEqual({
      prompt: PROMPT,
      n_predict: 256,
      stream: true,
      cache_prompt: true,
      return_tokens: true,
      timings_per_token: true,
      temperature: 0,
      top_p: 0.95,
      seed: 3,
    });
  });

  it("replays a recorded llama-server stream ending on EOS: the end token is dropped, a split UTF-8 token is counted", async () => {
    const backend = await llamaWith({
      "POST /completion": streamChunks(sseEvents("llamacpp-completion-eos.sse.txt")),
    });
    const session = await backend.openSession({});
    const events = await collect(session.generate(generateRequest({ prompt: { tokens: PROMPT } })));

    expect(textOf(events)).toBe("The answer is 4 🤔");
    const tokens = tokensOf(events);
    const emoji = tokens.find((event) => event.text.includes("🤔"));
    // The emoji's first byte token was never streamed: two tokens, ids unknown.
    expect(emoji).toMatchObject({ tokenCount: 2 });
    expect(emoji?.tokenIds).toBeUndefined();
    expect(tokens.reduce((sum, event) => sum + event.tokenCount, 0)).toBe(8);
    expect(tokens.flatMap((event) => event.tokenIds ?? [])).not.toContain(151645);
    expect(finishOf(events)).toEqual({
      type: "finish",
      reason: "stop",
      endOfSequence: true,
      usage: { completionTokens: 9, promptTokensEvaluated: 15, promptTokensCached: 16 },
    });
  });

  it("replays a recorded llama-server stream with n_probs, reporting P(</think>) per token, cut by n_predict", async () => {
    const backend = await llamaWith({
      "POST /completion": streamChunks(sseEvents("llamacpp-completion-probes-limit.sse.txt")),
    });
    const session = await backend.openSession({});
    const events = await collect(
      session.generate(
        generateRequest({ prompt: { tokens: PROMPT }, probeTokenIds: [THINK_END], maxTokens: 3 }),
      ),
    );
    const probabilities = tokensOf(events).flatMap((event) => event.probeProbabilities ?? []);
    expect(probabilities).toHaveLength(3);
    expect(probabilities[0]).toBeCloseTo(0.2, 4);
    expect(probabilities[1]).toBe(0);
    expect(probabilities[2]).toBeCloseTo(0.05, 4);
    expect(finishOf(events)).toMatchObject({ reason: "length" });
    expect(server?.requests[0]?.body).toMatchObject({ n_probs: 20 });
  });

  it("replays a recorded llama-server stream where a stop string spans three tokens, and drops all of them", async () => {
    const backend = await llamaWith({
      "POST /completion": streamChunks(sseEvents("llamacpp-completion-stop-string.sse.txt")),
    });
    const session = await backend.openSession({});
    const events = await collect(
      session.generate(generateRequest({ prompt: { tokens: PROMPT }, stopStrings: ["</think>"] })),
    );
    expect(textOf(events)).toBe("Done.\n");
    expect(tokensOf(events).flatMap((event) => event.tokenIds ?? [])).toEqual([17453, 13, 198]);
    expect(finishOf(events)).toMatchObject({ reason: "stop", stoppedBy: { text: "</think>" } });
    // Stop strings are enforced here, not sent: the server would hide their text but not their ids.
    expect(server?.requests[0]?.body).not.toHaveProperty("stop");
  });

  it("tokenizes a text prompt first (no BOS, special tokens parsed) and sends the ids", async () => {
    const backend = await llamaWith({
      "POST /tokenize": jsonAnswer(200, { tokens: PROMPT }),
      "POST /completion": streamChunks(sseEvents("llamacpp-completion-eos.sse.txt")),
    });
    const session = await backend.openSession({});
    await collect(session.generate(generateRequest()));
    expect(server?.requests[0]).toMatchObject({
      path: "/tokenize",
      body: { content: generateRequest().prompt.text, add_special: false, parse_special: true },
    });
    expect(server?.requests[1]?.body).toMatchObject({ prompt: PROMPT });
  });

  it("reports an error the server sends in the stream as upstream_error", async () => {
    const backend = await llamaWith({
      "POST /completion": streamChunks([
        sseEvents("llamacpp-completion-eos.sse.txt")[0] ?? "",
        `error: ${JSON.stringify({ code: 500, message: "failed to decode the batch", type: "server_error" })}\n\n`,
      ]),
    });
    const session = await backend.openSession({});
    const error = await failureOf(
      session.generate(generateRequest({ prompt: { tokens: PROMPT } })),
    );
    expect(error).toMatchObject({ code: "upstream_error" });
    expect(error.message).toContain("failed to decode the batch");
  });

  it("turns a stream cut before the final result into upstream_disconnected", async () => {
    const backend = await llamaWith({
      "POST /completion": streamChunks(sseEvents("llamacpp-completion-eos.sse.txt").slice(0, 4), {
        after: "destroy",
      }),
    });
    const session = await backend.openSession({});
    expect(
      await failureOf(session.generate(generateRequest({ prompt: { tokens: PROMPT } }))),
    ).toMatchObject({
      code: "upstream_disconnected",
    });
  });
});

describe("llama.cpp backend endpoints", () => {
  it("reads the model and its context size, tokenizes with parse_special, and renders chat with /apply-template", async () => {
    const backend = await llamaWith({
      "GET /v1/models": jsonAnswer(200, {
        object: "list",
        data: [
          {
            id: "Qwen3-8B-Q4_K_M.gguf",
            object: "model",
            created: 1741608000,
            owned_by: "llamacpp",
            meta: { vocab_type: 2, n_vocab: 151936, n_ctx_train: 40960 },
          },
        ],
      }),
      "GET /props": jsonAnswer(200, {
        default_generation_settings: {
          id: 0,
          id_task: -1,
          n_ctx: 8192,
          speculative: false,
          is_processing: false,
        },
        total_slots: 1,
        model_path: "/models/Qwen3-8B-Q4_K_M.gguf",
        chat_template: "{%- for message in messages %}...",
      }),
      "POST /tokenize": jsonAnswer(200, { tokens: [{ id: 151668, piece: "</think>" }] }),
      "POST /apply-template": jsonAnswer(200, {
        prompt: "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
      }),
    });
    expect(await backend.listModels()).toEqual([
      { id: "Qwen3-8B-Q4_K_M.gguf", contextLength: 8192 },
    ]);
    expect(backend.capabilities).toEqual({
      exactTokenIds: true,
      tokenIdPrompts: true,
      stopTokenIds: true,
      logprobs: true,
      tokenizer: true,
      persistentSequence: false,
      suppress: true,
      tokenEntropy: true,
      contextLength: 8192,
    });
    const session = await backend.openSession({});
    expect(await session.tokenize?.("</think>", { special: false })).toEqual([151668]);
    expect(server?.requests.at(-1)?.body).toEqual({
      content: "</think>",
      add_special: false,
      parse_special: false,
    });
    expect(await backend.applyChatTemplate?.([{ role: "user", content: "hi" }], {})).toBe(
      "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
    );
  });

  it("says loading while /health answers 503", async () => {
    const backend = await llamaWith({
      "GET /health": jsonAnswer(503, {
        error: { code: 503, message: "Loading model", type: "unavailable_error" },
      }),
    });
    expect(await backend.readiness()).toEqual({ state: "loading", message: "Loading model" });
  });

  it("passes OpenAI requests through to llama-server's /v1 endpoints", async () => {
    const backend = await llamaWith({
      "POST /v1/completions": jsonAnswer(200, { choices: [{ text: "4" }] }),
    });
    const response = await backend.passthrough?.({
      path: "/completions",
      body: { prompt: "2+2=" },
      signal: new AbortController().signal,
    });
    expect(await response?.json()).toEqual({ choices: [{ text: "4" }] });
  });
});
