import { afterEach, describe, expect, it } from "vitest";
import { createOllamaBackend } from "../src/ollama/ollama-backend.ts";
import {
  collect,
  jsonAnswer,
  ndjsonLines,
  startReplayServer,
  streamChunks,
  streamForever,
  type Handler,
  type ReplayServer,
} from "./__fixtures__/replay-server.ts";
import { failureOf, finishOf, generateRequest, textOf, tokensOf } from "./__fixtures__/requests.ts";

const NDJSON = "application/x-ndjson";

let server: ReplayServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function ollamaWith(
  routes: Record<string, Handler>,
  options: { numCtx?: number; idleMs?: number } = {},
) {
  server = await startReplayServer(routes);
  return createOllamaBackend({
    url: server.url,
    model: "qwq:32b",
    numCtx: options.numCtx,
    timeouts: { idleMs: options.idleMs ?? 5_000, firstByteMs: 5_000 },
  });
}

describe("Ollama backend replaying recorded /api/generate NDJSON streams", () => {
  it("replays a recorded Ollama stream whose </think> is split across lines, stops before it and cancels", async () => {
    const backend = await ollamaWith(
      {
        "POST /api/generate": streamChunks(
          ndjsonLines("ollama-generate-split-delimiter.ndjson.txt"),
          { contentType: NDJSON, delayMs: 20 },
        ),
      },
      { numCtx: 16384 },
    );
    const session = await backend.openSession({});
    const events = await collect(
      session.generate(
        generateRequest({
          stopStrings: ["</think>"],
          maxTokens: 200,
          sampling: { temperature: 0.6, topP: 0.95, topK: 40, seed: 1 },
        }),
      ),
    );
    const stoppedAt = Date.now();

    expect(textOf(events)).toBe("Okay, 2+2 is 4.\n");
    expect(tokensOf(events).reduce((sum, event) => sum + event.tokenCount, 0)).toBe(9);
    expect(finishOf(events)).toEqual({
      type: "finish",
      reason: "stop",
      stoppedBy: { text: "</think>" },
    });
    const closedAt = await server?.nextClientAbort();
    expect((closedAt ?? Infinity) - stoppedAt).toBeLessThan(1_000);
    expect(server?.requests[0]?.body).toEqual({
      model: "qwq:32b",
      prompt: generateRequest().prompt.text,
      raw: true,
      stream: true,
      options: {
        num_predict: 200,
        temperature: 0.6,
        top_p: 0.95,
        top_k: 40,
        seed: 1,
        stop: [],
        num_ctx: 16384,
      },
    });
  });

  it("replays a recorded Ollama stream to its end: done_reason stop is the end of sequence, with exact counts", async () => {
    const backend = await ollamaWith({
      "POST /api/generate": streamChunks(
        ndjsonLines("ollama-generate-split-delimiter.ndjson.txt"),
        { contentType: NDJSON },
      ),
    });
    const session = await backend.openSession({});
    const events = await collect(session.generate(generateRequest()));
    expect(textOf(events)).toBe("Okay, 2+2 is 4.\n</think>\n\n4");
    expect(finishOf(events)).toEqual({
      type: "finish",
      reason: "stop",
      endOfSequence: true,
      usage: { promptTokensEvaluated: 21, completionTokens: 14 },
    });
  });

  it("replays a recorded Ollama stream cut by num_predict", async () => {
    const backend = await ollamaWith({
      "POST /api/generate": streamChunks(ndjsonLines("ollama-generate-length.ndjson.txt"), {
        contentType: NDJSON,
      }),
    });
    const session = await backend.openSession({});
    const events = await collect(session.generate(generateRequest({ maxTokens: 4 })));
    expect(textOf(events)).toBe("Wait, let me");
    expect(finishOf(events)).toMatchObject({ reason: "length", usage: { completionTokens: 4 } });
  });

  it("turns a line that is not JSON into upstream_malformed", async () => {
    const lines = ndjsonLines("ollama-generate-length.ndjson.txt");
    const backend = await ollamaWith({
      "POST /api/generate": streamChunks([lines[0] ?? "", '{"model":"qwq:32b","response":\n'], {
        contentType: NDJSON,
      }),
    });
    const session = await backend.openSession({});
    expect(await failureOf(session.generate(generateRequest()))).toMatchObject({
      code: "upstream_malformed",
    });
  });

  it("turns a connection dropped mid-line into upstream_disconnected", async () => {
    const lines = ndjsonLines("ollama-generate-length.ndjson.txt");
    const backend = await ollamaWith({
      "POST /api/generate": streamChunks([lines[0] ?? "", lines[1]?.slice(0, 20) ?? ""], {
        contentType: NDJSON,
        after: "destroy",
      }),
    });
    const session = await backend.openSession({});
    expect(await failureOf(session.generate(generateRequest()))).toMatchObject({
      code: "upstream_disconnected",
    });
  });

  it("reports an error line and an error status with Ollama's message", async () => {
    const backend = await ollamaWith({
      "POST /api/generate": streamChunks(
        ['{"error":"an error was encountered while running the model: CUDA error"}\n'],
        { contentType: NDJSON },
      ),
    });
    const session = await backend.openSession({});
    const error = await failureOf(session.generate(generateRequest()));
    expect(error).toMatchObject({ code: "upstream_error" });
    expect(error.message).toContain("CUDA error");

    await server?.close();
    const missing = await ollamaWith({
      "POST /api/generate": jsonAnswer(404, {
        error: 'model "qwq:32b" not found, try pulling it first',
      }),
    });
    const missingError = await failureOf(
      (await missing.openSession({})).generate(generateRequest()),
    );
    expect(missingError.message).toContain(
      'HTTP 404: model "qwq:32b" not found, try pulling it first',
    );
  });

  it("turns a stalled stream into upstream_timeout", async () => {
    const lines = ndjsonLines("ollama-generate-length.ndjson.txt");
    const backend = await ollamaWith(
      {
        "POST /api/generate": streamChunks(lines.slice(0, 2), {
          contentType: NDJSON,
          after: "hang",
        }),
      },
      { idleMs: 150 },
    );
    const session = await backend.openSession({});
    expect(await failureOf(session.generate(generateRequest()))).toMatchObject({
      code: "upstream_timeout",
      status: 504,
    });
  });

  it("cancels the upstream request within a second when the consumer stops", async () => {
    const backend = await ollamaWith({
      "POST /api/generate": streamForever(
        () => '{"model":"qwq:32b","response":"a","done":false}\n',
        NDJSON,
      ),
    });
    const session = await backend.openSession({});
    for await (const event of session.generate(generateRequest())) {
      if (event.type === "tokens") break;
    }
    const stoppedAt = Date.now();
    expect((await server?.nextClientAbort()) ?? Infinity).toBeLessThan(stoppedAt + 1_000);
  });
});

describe("Ollama backend endpoints", () => {
  it("lists models from /api/tags, is ready when /api/version answers, and reads num_ctx from the Modelfile", async () => {
    server = await startReplayServer({
      "GET /api/tags": jsonAnswer(200, {
        models: [
          {
            name: "qwq:32b",
            model: "qwq:32b",
            modified_at: "2025-03-08T10:00:00Z",
            size: 19851349856,
            digest: "38ee5094e51e",
            details: { family: "qwen2", parameter_size: "32.8B", quantization_level: "Q4_K_M" },
          },
        ],
      }),
      "GET /api/version": jsonAnswer(200, { version: "0.6.0" }),
      "POST /api/show": jsonAnswer(200, {
        parameters:
          'repeat_penalty                 1\nstop                           "<|im_start|>"\nstop                           "<|im_end|>"\nnum_ctx                        8192',
        model_info: { "qwen2.context_length": 131072 },
      }),
    });
    const backend = createOllamaBackend({ url: `${server.url}/` });
    expect(await backend.readiness()).toEqual({ state: "ready" });
    expect(await backend.listModels()).toEqual([{ id: "qwq:32b" }]);
    await backend.openSession({});
    expect(backend.capabilities).toMatchObject({
      exactTokenIds: false,
      tokenizer: false,
      contextLength: 8192,
    });
    expect(server.requests.find((request) => request.path === "/api/show")?.body).toEqual({
      model: "qwq:32b",
    });
  });

  it("passes OpenAI requests through to Ollama's /v1 endpoints", async () => {
    const backend = await ollamaWith({
      "POST /v1/chat/completions": jsonAnswer(200, { choices: [] }),
    });
    const response = await backend.passthrough?.({
      path: "/chat/completions",
      body: { model: "qwq:32b" },
      signal: new AbortController().signal,
    });
    expect(response?.status).toBe(200);
    expect(server?.requests[0]?.path).toBe("/v1/chat/completions");
  });
});
