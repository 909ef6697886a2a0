/**
 * Each token's entropy from the server backends, estimated from the top
 * candidates they list, replayed from recorded vLLM and llama-server streams
 * (stand-ins for a GPU server), and the backends that list none saying so.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createLlamaCppBackend } from "../src/llamacpp/llamacpp-backend.ts";
import { createOllamaBackend } from "../src/ollama/ollama-backend.ts";
import { createOpenAiBackend } from "../src/openai/openai-backend.ts";
import { createVllmBackend } from "../src/vllm/vllm-backend.ts";
import {
  collect,
  sseEvents,
  startReplayServer,
  streamChunks,
  type ReplayServer,
} from "./__fixtures__/replay-server.ts";
import { generateRequest, tokensOf } from "./__fixtures__/requests.ts";

const timeouts = { idleMs: 5_000, firstByteMs: 5_000 };
/** The entropy of a distribution all of whose candidates are listed. */
const bitsOf = (...ps: number[]) => -ps.reduce((h, p) => h + p * Math.log2(p), 0);

let server: ReplayServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("token entropy on the wire", () => {
  it("vLLM: asks for 20 candidates and reports one entropy per token, higher where the model was less sure", async () => {
    server = await startReplayServer({
      "POST /v1/completions": streamChunks(sseEvents("vllm-completions-probes-length.sse.txt")),
    });
    const backend = createVllmBackend({ url: `${server.url}/v1`, model: "Qwen/QwQ-32B", timeouts });
    expect(backend.capabilities.tokenEntropy).toBe(true);
    const session = await backend.openSession({});
    const events = await collect(
      session.generate(generateRequest({ tokenEntropy: true, maxTokens: 4 })),
    );
    const tokens = tokensOf(events);
    const entropies = tokens.flatMap((event) => event.entropies ?? []);
    expect(entropies).toHaveLength(tokens.reduce((n, e) => n + e.tokenCount, 0));
    // "Wait" at 70% (the recording lists two candidates) against "," at 99%.
    expect(entropies[0]).toBeGreaterThan(5 * entropies[1]!);
    expect(entropies.every((bits) => bits >= 0)).toBe(true);
    expect(server.requests[0]?.body).toMatchObject({ logprobs: 20 });

    const unasked = await collect(session.generate(generateRequest({ maxTokens: 4 })));
    expect(tokensOf(unasked).some((event) => event.entropies !== undefined)).toBe(false);
    expect(server.requests[1]?.body).not.toHaveProperty("logprobs");
  });

  it("llama.cpp: asks for n_probs and reads each token's candidates", async () => {
    server = await startReplayServer({
      "POST /completion": streamChunks(sseEvents("llamacpp-completion-probes-limit.sse.txt")),
    });
    const backend = createLlamaCppBackend({ url: server.url, timeouts });
    expect(backend.capabilities.tokenEntropy).toBe(true);
    const session = await backend.openSession({});
    const events = await collect(
      session.generate(
        generateRequest({ prompt: { tokens: [1, 2, 3] }, tokenEntropy: true, maxTokens: 3 }),
      ),
    );
    const entropies = tokensOf(events).flatMap((event) => event.entropies ?? []);
    expect(entropies).toHaveLength(3);
    // "Wait" 80% and "</think>" 20%: every candidate listed, so exact.
    expect(entropies[0]).toBeCloseTo(bitsOf(0.8, 0.2), 3);
    expect(entropies[1]).toBeLessThan(entropies[0]!);
    expect(server.requests[0]?.body).toMatchObject({ n_probs: 20 });
  });

  it("a plain OpenAI-compatible server and Ollama say they cannot", () => {
    expect(
      createOpenAiBackend({ url: "http://127.0.0.1:9/v1", model: "m", timeouts }).capabilities
        .tokenEntropy,
    ).toBeUndefined();
    expect(
      createOllamaBackend({ url: "http://127.0.0.1:9", model: "m", timeouts }).capabilities
        .tokenEntropy,
    ).toBeUndefined();
  });
});
