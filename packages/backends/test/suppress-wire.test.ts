/**
 * `budget_forcing.suppress` on the server backends: what each sends upstream,
 * replayed against recorded vLLM and llama-server streams (stand-ins for a
 * GPU server), and the refusal of a backend that has no way to ban a word.
 */
import { BudgetForcingRun } from "@thinkscope/core";
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
import { generateRequest } from "./__fixtures__/requests.ts";

const THINK_END = 151668;
const PROMPT = [
  151644, 872, 198, 3838, 374, 220, 17, 10, 17, 30, 151645, 198, 151644, 77091, 198, 151667, 198,
];
const timeouts = { idleMs: 5_000, firstByteMs: 5_000 };

let server: ReplayServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("suppress on the wire (recorded server streams)", () => {
  it("vLLM: sends the words as bad_words, and nothing when there are none", async () => {
    server = await startReplayServer({
      "POST /v1/completions": streamChunks(sseEvents("vllm-completions-stop-token.sse.txt")),
    });
    const backend = createVllmBackend({ url: `${server.url}/v1`, model: "Qwen/QwQ-32B", timeouts });
    expect(backend.capabilities.suppress).toBe(true);
    const session = await backend.openSession({});
    const request = { prompt: { tokens: PROMPT }, stopTokenIds: [THINK_END] };
    await collect(
      session.generate(generateRequest({ ...request, suppressWords: ["Wait", "Hmm"] })),
    );
    await collect(session.generate(generateRequest(request)));
    expect(server.requests[0]?.body).toMatchObject({
      prompt: PROMPT,
      stop_token_ids: [THINK_END],
      bad_words: ["Wait", "Hmm"],
    });
    expect(server.requests[1]?.body).not.toHaveProperty("bad_words");
  });

  it("llama.cpp: sends logit_bias with each word and its spaced form set to never (false)", async () => {
    server = await startReplayServer({
      "POST /completion": streamChunks(sseEvents("llamacpp-completion-stop-token.sse.txt")),
    });
    const backend = createLlamaCppBackend({ url: server.url, timeouts });
    expect(backend.capabilities.suppress).toBe(true);
    const session = await backend.openSession({});
    await collect(
      session.generate(
        generateRequest({
          prompt: { tokens: PROMPT },
          stopTokenIds: [THINK_END],
          suppressWords: ["Wait", "Alternatively"],
        }),
      ),
    );
    expect(server.requests[0]?.body).toMatchObject({
      prompt: PROMPT,
      logit_bias: [
        ["Wait", false],
        [" Wait", false],
        ["Alternatively", false],
        [" Alternatively", false],
      ],
    });
  });

  it("a plain OpenAI-compatible server and Ollama cannot ban words: the run is refused, naming the field", async () => {
    const openai = createOpenAiBackend({ url: "http://127.0.0.1:9/v1", model: "m", timeouts });
    const ollama = createOllamaBackend({ url: "http://127.0.0.1:9", model: "m", timeouts });
    for (const backend of [openai, ollama]) {
      expect(backend.capabilities.suppress ?? false).toBe(false);
      const session = await backend.openSession({ model: "m" });
      await expect(
        BudgetForcingRun.prepare(session, backend.capabilities, {
          prompt: "<think>\n",
          budgetForcing: { suppress: ["Wait"] },
        }),
      ).rejects.toMatchObject({ code: "unsupported_by_backend", status: 400 });
      await session.close();
    }
  });
});
