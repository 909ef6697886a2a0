/**
 * Each generated token's log-probability (for a confidence vote) from the
 * server backends, replayed from a recorded vLLM stream (a stand-in for a
 * GPU server), and the backends that cannot give it saying so.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createLlamaCppBackend } from "../src/llamacpp/llamacpp-backend.ts";
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

const THINK_END = 151668;
const timeouts = { idleMs: 5_000, firstByteMs: 5_000 };

let server: ReplayServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("token log-probabilities on the wire", () => {
  it("vLLM: asks for logprobs and reads token_logprobs, one per token", async () => {
    server = await startReplayServer({
      "POST /v1/completions": streamChunks(sseEvents("vllm-completions-probes-length.sse.txt")),
    });
    const backend = createVllmBackend({ url: `${server.url}/v1`, model: "Qwen/QwQ-32B", timeouts });
    expect(backend.capabilities.tokenLogprobs).toBe(true);
    const session = await backend.openSession({});
    const events = await collect(
      session.generate(generateRequest({ tokenLogprobs: true, maxTokens: 4 })),
    );
    const logprobs = tokensOf(events).flatMap((event) => event.logprobs ?? []);
    // The recorded token_logprobs of "Wait", ",", " let", ...
    expect(logprobs.slice(0, 3)).toEqual([-0.3567, -0.0101, -0.5108]);
    expect(logprobs).toHaveLength(tokensOf(events).reduce((n, e) => n + e.tokenCount, 0));
    expect(server.requests[0]?.body).toMatchObject({ logprobs: 1 });
  });

  it("vLLM: a probe request keeps its wider logprobs, and the token's own value rides along", async () => {
    server = await startReplayServer({
      "POST /v1/completions": streamChunks(sseEvents("vllm-completions-probes-length.sse.txt")),
    });
    const backend = createVllmBackend({ url: `${server.url}/v1`, model: "Qwen/QwQ-32B", timeouts });
    const session = await backend.openSession({});
    const events = await collect(
      session.generate(
        generateRequest({ tokenLogprobs: true, probeTokenIds: [THINK_END], maxTokens: 4 }),
      ),
    );
    expect(tokensOf(events)[0]).toMatchObject({ logprobs: [-0.3567] });
    expect(server.requests[0]?.body).toMatchObject({ logprobs: 20 });
  });

  it("llama.cpp and a plain OpenAI-compatible server say they cannot (a confidence vote is refused there)", () => {
    expect(
      createLlamaCppBackend({ url: "http://127.0.0.1:9", timeouts }).capabilities.tokenLogprobs,
    ).toBeUndefined();
    expect(
      createOpenAiBackend({ url: "http://127.0.0.1:9/v1", model: "m", timeouts }).capabilities
        .tokenLogprobs,
    ).toBeUndefined();
  });
});
