/**
 * The official `openai` npm client against the server: budget forcing as an
 * extra body field, streamed and not, on both endpoints.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ScriptPerRun,
  THINK_PROMPT,
  buildTestApp,
  listen,
  withBudgetForcing,
  type TestApp,
} from "./helpers.ts";

const thinker = new ScriptPerRun("thinker", {
  replies: ["Let me think.</think>", " Check again.</think>", "The answer is 42."],
});
const rambler = new ScriptPerRun("rambler", {
  replies: ["abcdefghijklmnopqrstuvwxyz</think>", " 42"],
});

let server: TestApp;
let client: OpenAI;

beforeAll(async () => {
  server = await buildTestApp({ backends: [thinker, rambler] });
  client = new OpenAI({
    baseURL: `${await listen(server.app)}/v1`,
    apiKey: "not-needed",
    maxRetries: 0,
  });
});
afterAll(() => server.close());

/** Chunks as the client yields them, with the fields this server adds. */
interface BudgetChunk {
  choices: Array<{
    text?: string;
    delta?: { content?: string; reasoning_content?: string };
    injected?: string;
    finish_reason: string | null;
  }>;
  budget_forcing?: {
    waits: number;
    forced_end: boolean;
    segments: Array<{ type: string; text: string }>;
  };
  usage?: { prompt_tokens: number; completion_tokens: number };
}

describe("the openai client, streaming", () => {
  it("gets the thinking, each injection and the answer from /v1/chat/completions", async () => {
    const stream = await client.chat.completions.create(
      withBudgetForcing(
        {
          model: "thinker",
          messages: [{ role: "user", content: "What is 6 x 7?" }],
          stream: true,
          stream_options: { include_usage: true },
        },
        { num_waits: 1, max_thinking_tokens: 200 },
      ),
    );
    let reasoning = "";
    let content = "";
    const injected: string[] = [];
    const chunks: BudgetChunk[] = [];
    for await (const raw of stream) {
      const chunk = raw as unknown as BudgetChunk;
      chunks.push(chunk);
      const choice = chunk.choices[0];
      reasoning += choice?.delta?.reasoning_content ?? "";
      content += choice?.delta?.content ?? "";
      if (choice?.injected) injected.push(choice.injected);
    }
    expect(reasoning).toBe("Let me think.Wait Check again.");
    expect(content).toBe("The answer is 42.");
    expect(injected).toEqual(["wait", "end"]);
    // Each injection is a chunk of its own.
    const waitChunk = chunks.find((c) => c.choices[0]?.injected === "wait")!;
    expect(waitChunk.choices[0]!.delta).toEqual({ reasoning_content: "Wait", reasoning: "Wait" });

    const last = chunks.at(-1)!;
    expect(last.budget_forcing).toMatchObject({ waits: 1, forced_end: false });
    expect(last.budget_forcing!.segments.map((s) => s.type)).toEqual([
      "thinking",
      "wait",
      "thinking",
      "end",
      "answer",
    ]);
    expect(last.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(chunks.filter((c) => c.budget_forcing)).toHaveLength(1);
    expect(chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter(Boolean)).toEqual([
      "stop",
    ]);
  });

  it("gets the whole continuation, forced close included, from /v1/completions", async () => {
    const stream = await client.completions.create(
      withBudgetForcing(
        {
          model: "rambler",
          prompt: THINK_PROMPT,
          stream: true,
        },
        { max_thinking_tokens: 10 },
      ),
    );
    let text = "";
    const marks: Array<{ kind: string; text: string }> = [];
    let summary: BudgetChunk["budget_forcing"];
    for await (const raw of stream) {
      const chunk = raw as unknown as BudgetChunk;
      const choice = chunk.choices[0];
      text += choice?.text ?? "";
      if (choice?.injected) marks.push({ kind: choice.injected, text: choice.text ?? "" });
      summary = chunk.budget_forcing ?? summary;
    }
    expect(text).toBe("abcdefghij\n</think>\n\nFinal Answer: 42");
    expect(marks).toEqual([{ kind: "forced_end", text: "\n</think>\n\nFinal Answer:" }]);
    expect(summary).toMatchObject({ forced_end: true, waits: 0 });
  });
});

describe("the openai client, not streaming", () => {
  it("gets reasoning_content, content and the budget_forcing object from chat", async () => {
    const completion = await client.chat.completions.create(
      withBudgetForcing(
        {
          model: "thinker",
          messages: [{ role: "user", content: "What is 6 x 7?" }],
        },
        { num_waits: 1 },
      ),
    );
    const message = completion.choices[0]!.message as {
      content: string;
      reasoning_content?: string;
    };
    expect(message.reasoning_content).toBe("Let me think.Wait Check again.");
    expect(message.content).toBe("The answer is 42.");
    const extra = completion as unknown as {
      budget_forcing: { waits: number; thinking_tokens: number };
    };
    expect(extra.budget_forcing.waits).toBe(1);
    // Counted in tokens: "Let me think." (13) + "Wait" (4) + " Check again." (13).
    expect(extra.budget_forcing.thinking_tokens).toBe(30);
    // Reasoning (the wait included) plus answer; the injected close is counted in neither.
    expect(completion.usage?.completion_tokens).toBe(30 + 17);
  });

  it("gets the continuation as choices[0].text from completions", async () => {
    const completion = await client.completions.create(
      withBudgetForcing(
        {
          model: "thinker",
          prompt: THINK_PROMPT,
        },
        { num_waits: 1 },
      ),
    );
    expect(completion.choices[0]!.text).toBe(
      "Let me think.Wait Check again.</think>The answer is 42.",
    );
    expect(completion.choices[0]!.finish_reason).toBe("stop");
  });
});

/*
 * The same flows on real inference paths, enabled as the adapters land:
 * `embedded-backend.test.ts` (the generated test model through node-llama-cpp)
 * and `vllm-replay.test.ts` (a recorded vLLM stream).
 */
