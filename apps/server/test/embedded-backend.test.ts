/**
 * The whole path on real inference: the `openai` client, this server, the
 * budget-forcing engine and the embedded backend running a generated GGUF
 * model in llama.cpp. The "counting" test model thinks `abc...z` and tries
 * to close; after a `Wait` it continues `tuvwxyz`; then it answers ` 42`.
 */
import { createEmbeddedBackend } from "@thinkscope/backends";
import { getTestModel } from "@thinkscope/backends/testing";
import { tmpdir } from "node:os";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WsClient, buildTestApp, listen, withBudgetForcing, type TestApp } from "./helpers.ts";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz";

let server: TestApp;
let base: string;
let client: OpenAI;

beforeAll(async () => {
  const { path } = await getTestModel();
  // The model is a local file: nothing is downloaded into this data directory.
  const backend = createEmbeddedBackend({ model: path, dataDir: tmpdir(), threads: 1 });
  server = await buildTestApp({ backends: [backend] });
  base = await listen(server.app);
  client = new OpenAI({ baseURL: `${base}/v1`, apiKey: "x", maxRetries: 0 });
});
afterAll(() => server.close());

describe("budget forcing on the embedded backend", () => {
  it("streams chat with a wait: thinking, the injection, the answer", async () => {
    const stream = await client.chat.completions.create(
      withBudgetForcing(
        {
          model: "",
          messages: [{ role: "user" as const, content: "What is 6*7?" }],
          stream: true as const,
        },
        { num_waits: 1, max_thinking_tokens: 100 },
      ),
    );
    let reasoning = "";
    let content = "";
    const injected: string[] = [];
    let summary: { waits: number; token_counts_exact: boolean } | undefined;
    for await (const raw of stream) {
      const chunk = raw as unknown as {
        choices: Array<{
          delta?: { content?: string; reasoning_content?: string };
          injected?: string;
        }>;
        budget_forcing?: { waits: number; token_counts_exact: boolean };
      };
      reasoning += chunk.choices[0]?.delta?.reasoning_content ?? "";
      content += chunk.choices[0]?.delta?.content ?? "";
      if (chunk.choices[0]?.injected) injected.push(chunk.choices[0].injected);
      summary = chunk.budget_forcing ?? summary;
    }
    expect(reasoning).toBe(`${ALPHABET}Waittuvwxyz`);
    expect(content).toBe(" 42");
    expect(injected).toEqual(["wait", "end"]);
    expect(summary).toMatchObject({ waits: 1, token_counts_exact: true });
  });

  it("cuts the thinking with a forced close on /v1/completions", async () => {
    const completion = await client.completions.create(
      withBudgetForcing(
        {
          model: "",
          prompt: "<|im_start|>user\nWhat is 6*7?<|im_end|>\n<|im_start|>assistant\n<think>\n",
        },
        { max_thinking_tokens: 10, max_answer_tokens: 10 },
      ),
    );
    expect(completion.choices[0]!.text).toBe("abcdefghij\n</think>\n\nFinal Answer: 42");
  });

  it("streams the same run to the page over the WebSocket", async () => {
    const page = await WsClient.connect(base);
    page.send({
      type: "run",
      key: "e",
      spec: { prompt: "What is 6*7?", budget_forcing: { num_waits: 1 } },
    });
    const events = await page.finished("e", 30_000);
    const text = events
      .map((e) => (e.type === "delta" || e.type === "injection" ? e.text : ""))
      .join("");
    expect(text).toBe(`${ALPHABET}Waittuvwxyz</think> 42`);
    page.close();
  });
});
