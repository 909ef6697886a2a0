import { afterEach, describe, expect, it } from "vitest";
import { createOpenAiBackend, type OpenAiBackendOptions } from "../src/openai/openai-backend.ts";
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

let server: ReplayServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function openaiWith(
  routes: Record<string, Handler>,
  options: Partial<OpenAiBackendOptions> = {},
) {
  server = await startReplayServer(routes);
  return createOpenAiBackend({
    url: `${server.url}/v1`,
    model: "deepseek-r1-distill-qwen-7b",
    ...options,
  });
}

describe("OpenAI-compatible backend replaying recorded /v1/completions streams", () => {
  it("replays a recorded stream whose delimiter is split across chunks, stops before it and cancels the request", async () => {
    const backend = await openaiWith(
      {
        "POST /v1/completions": streamChunks(
          sseEvents("openai-completions-split-delimiter.sse.txt"),
          { delayMs: 20 },
        ),
      },
      { apiKey: "sk-hosted" },
    );
    const session = await backend.openSession({});
    const events = await collect(
      session.generate(
        generateRequest({
          stopStrings: ["</think>"],
          maxTokens: 100,
          sampling: { temperature: 0.6, topP: 0.95 },
        }),
      ),
    );
    const stoppedAt = Date.now();

    expect(textOf(events)).toBe("Okay, 2+2 is 4.\n");
    expect(textOf(events)).not.toContain("</thi");
    // One token per streamed chunk: an estimate, marked by the absence of ids.
    expect(tokensOf(events).reduce((sum, event) => sum + event.tokenCount, 0)).toBe(5);
    expect(tokensOf(events).every((event) => event.tokenIds === undefined)).toBe(true);
    expect(finishOf(events)).toEqual({
      type: "finish",
      reason: "stop",
      stoppedBy: { text: "</think>" },
    });
    const closedAt = await server?.nextClientAbort();
    expect((closedAt ?? Infinity) - stoppedAt).toBeLessThan(1_000);

    expect(server?.requests[0]?.headers.authorization).toBe("Bearer sk-hosted");
    expect(server?.requests[0]?.body).toEqual({
      model: "deepseek-r1-distill-qwen-7b",
      prompt: generateRequest().prompt.text,
      max_tokens: 100,
      temperature: 0.6,
      top_p: 0.95,
      stream: true,
      stream_options: { include_usage: true },
      stop: ["</think>"],
    });
  });

  it("replays a recorded stream cut by max_tokens, with exact usage and cached prompt tokens", async () => {
    const backend = await openaiWith({
      "POST /v1/completions": streamChunks(sseEvents("openai-completions-length.sse.txt")),
    });
    const session = await backend.openSession({});
    const events = await collect(session.generate(generateRequest({ maxTokens: 5 })));
    expect(textOf(events)).toBe("Wait, let me check");
    expect(finishOf(events)).toEqual({
      type: "finish",
      reason: "length",
      usage: { promptTokensEvaluated: 24, promptTokensCached: 1024, completionTokens: 5 },
    });
  });

  it("says the model ended when no stop string was asked for, and leaves the cause open when one was", async () => {
    const stream = sseEvents("openai-completions-split-delimiter.sse.txt").filter(
      (event) => !event.includes("thi"),
    );
    const backend = await openaiWith({ "POST /v1/completions": streamChunks(stream) });
    const session = await backend.openSession({});
    const plain = finishOf(await collect(session.generate(generateRequest())));
    expect(plain).toMatchObject({ reason: "stop", endOfSequence: true });
    const withStops = finishOf(
      await collect(session.generate(generateRequest({ stopStrings: ["</think>"] }))),
    );
    expect(withStops?.reason).toBe("stop");
    expect(withStops?.endOfSequence).toBeUndefined();
    expect(withStops?.stoppedBy).toBeUndefined();
  });

  it("keeps stop strings to itself when upstreamStopStrings is false", async () => {
    const backend = await openaiWith(
      {
        "POST /v1/completions": streamChunks(
          sseEvents("openai-completions-split-delimiter.sse.txt"),
        ),
      },
      { upstreamStopStrings: false },
    );
    const session = await backend.openSession({});
    const events = await collect(session.generate(generateRequest({ stopStrings: ["</think>"] })));
    expect(finishOf(events)?.stoppedBy).toEqual({ text: "</think>" });
    expect(server?.requests[0]?.body).not.toHaveProperty("stop");
  });

  it("refuses a prompt given only as token ids", async () => {
    const backend = await openaiWith({});
    const session = await backend.openSession({});
    const error = await failureOf(
      session.generate(generateRequest({ prompt: { tokens: [1, 2, 3] } })),
    );
    expect(error).toMatchObject({ code: "prompt_text_required", status: 400 });
  });

  it("uses the first listed model and reports text-only capabilities", async () => {
    const backend = await openaiWith(
      {
        "GET /v1/models": jsonAnswer(200, {
          object: "list",
          data: [
            {
              id: "lmstudio-community/QwQ-32B-GGUF",
              object: "model",
              owned_by: "organization_owner",
            },
          ],
        }),
        "POST /v1/completions": streamChunks(sseEvents("openai-completions-length.sse.txt")),
      },
      { model: undefined, contextLength: 32768 },
    );
    expect(backend.capabilities).toEqual({
      exactTokenIds: false,
      tokenIdPrompts: false,
      stopTokenIds: false,
      logprobs: false,
      tokenizer: false,
      persistentSequence: false,
      contextLength: 32768,
    });
    const session = await backend.openSession({});
    expect(session.tokenize).toBeUndefined();
    await collect(session.generate(generateRequest()));
    expect(server?.requests.at(-1)?.body).toMatchObject({
      model: "lmstudio-community/QwQ-32B-GGUF",
    });
  });

  it("turns a 401 into upstream_error that points at the key, without showing it", async () => {
    const backend = await openaiWith(
      {
        "POST /v1/completions": jsonAnswer(401, {
          error: {
            message: "Incorrect API key provided: sk-wrong***",
            type: "invalid_request_error",
            param: null,
            code: "invalid_api_key",
          },
        }),
      },
      { apiKey: "sk-wrong" },
    );
    const session = await backend.openSession({});
    const error = await failureOf(session.generate(generateRequest()));
    expect(error).toMatchObject({ code: "upstream_error", retryable: false });
    expect(error.message).toContain("THINKSCOPE_API_KEY");
    expect(error.message).not.toContain("sk-wrong");
  });
});
