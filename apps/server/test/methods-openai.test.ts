/**
 * Thinking-control methods beyond s1 through the official `openai` client:
 * each is a `budget_forcing` field, its interventions come back as injected
 * chunks and in the `budget_forcing` summary.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScriptPerRun, buildTestApp, listen, withBudgetForcing, type TestApp } from "./helpers.ts";

const rambler = new ScriptPerRun("rambler", {
  // One reply per upstream request: the budget cuts the first, the grace continues with the second.
  replies: ["one two three four five six", " seven. eight nine</think>", "The answer is 42."],
});

const waverer = new ScriptPerRun("waverer", {
  replies: ["6 x 7 = 42. Wait, or 48? Hmm.</think>", "42"],
});
const looper = new ScriptPerRun("looper", {
  replies: ["Let me add. " + "carry the one, ".repeat(30), "The answer is 42."],
});
const guesser = new ScriptPerRun("guesser", {
  // Thinking, the probe's answer, thinking (the one elimination spent: no probe), the answer.
  replies: ["5 + 7 = 11\n</think>", "11}", "no: 12\n</think>", "The answer is 12."],
});
const plainServer = new ScriptPerRun("plain", { replies: ["a</think>", "42"], mode: "text" });

let server: TestApp;
let client: OpenAI;

beforeAll(async () => {
  server = await buildTestApp({ backends: [rambler, waverer, looper, guesser, plainServer] });
  client = new OpenAI({
    baseURL: `${await listen(server.app)}/v1`,
    apiKey: "not-needed",
    maxRetries: 0,
  });
});
afterAll(() => server.close());

interface Summary {
  thinking_tokens: number;
  grace_tokens_used?: number;
  segments: Array<{ type: string; text: string }>;
}

describe("budget_message and grace_tokens", () => {
  it("finish the sentence under the grace, then inject the message before the forced close", async () => {
    const message = "Considering the limited time, I have to answer now.";
    const completion = await client.chat.completions.create(
      withBudgetForcing(
        { model: "rambler", messages: [{ role: "user", content: "6 x 7?" }] },
        { max_thinking_tokens: 10, grace_tokens: 20, budget_message: message },
      ),
    );
    const summary = (completion as unknown as { budget_forcing: Summary }).budget_forcing;
    expect(summary.segments.map((s) => [s.type, s.text])).toEqual([
      ["thinking", "one two th seven. "],
      ["budget_message", `\n${message}`],
      ["forced_end", "\n</think>\n\nFinal Answer:"],
      ["answer", "The answer is 42."],
    ]);
    expect(summary.thinking_tokens).toBe(18);
    expect(summary.grace_tokens_used).toBe(8);
    const reasoning = (completion.choices[0]!.message as { reasoning_content?: string })
      .reasoning_content;
    expect(reasoning).toBe(`one two th seven. \n${message}`);
  });

  it("streams the budget message as its own injected chunk, in the reasoning", async () => {
    const stream = await client.chat.completions.create(
      withBudgetForcing(
        { model: "rambler", messages: [{ role: "user", content: "6 x 7?" }], stream: true },
        { max_thinking_tokens: 10, budget_message: "Time is up." },
      ),
    );
    const injected: Array<[string, unknown]> = [];
    for await (const raw of stream) {
      const choice = (raw as unknown as { choices: Array<{ injected?: string; delta?: object }> })
        .choices[0];
      if (choice?.injected) injected.push([choice.injected, choice.delta]);
    }
    expect(injected).toEqual([
      ["budget_message", { reasoning_content: "\nTime is up.", reasoning: "\nTime is up." }],
      ["forced_end", {}],
    ]);
  });

  it("refuses a bad grace with a 400 naming the field", async () => {
    const error = await client.chat.completions
      .create(
        withBudgetForcing(
          { model: "rambler", messages: [{ role: "user", content: "6 x 7?" }] },
          { grace_tokens: 1.5 },
        ),
      )
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toMatch(/grace_tokens/);
  });
});

describe("suppress", () => {
  it("keeps the words out of the thinking (the answer may use them)", async () => {
    const completion = await client.chat.completions.create(
      withBudgetForcing(
        { model: "waverer", messages: [{ role: "user", content: "6 x 7?" }] },
        { suppress: ["Wait", "Hmm"] },
      ),
    );
    const reasoning = (completion.choices[0]!.message as { reasoning_content?: string })
      .reasoning_content;
    expect(reasoning).toBe("6 x 7 = 42. , or 48? .");
    expect(waverer.requests.at(-2)).toMatchObject({ suppressWords: ["Wait", "Hmm"] });
    expect(waverer.requests.at(-1)!.suppressWords).toBeUndefined();
  });

  it("is refused with 400 unsupported_by_backend by a backend that cannot ban words", async () => {
    const error = await client.chat.completions
      .create(
        withBudgetForcing(
          { model: "plain", messages: [{ role: "user", content: "6 x 7?" }] },
          { suppress: ["Wait"] },
        ),
      )
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const failure = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(failure.code).toBe("unsupported_by_backend");
    expect(failure.message).toMatch(/budget_forcing\.suppress/);
  });
});

describe("loop_guard", () => {
  it("forces the close of looping thinking, marked with reason loop in the stream", async () => {
    const stream = await client.completions.create(
      withBudgetForcing(
        { model: "looper", prompt: "<think>\n", stream: true },
        { max_thinking_tokens: 400, loop_guard: { window: 16, repeats: 2 } },
      ),
    );
    const injected: string[] = [];
    let summary: Summary | undefined;
    for await (const raw of stream) {
      const chunk = raw as unknown as {
        choices: Array<{ injected?: string }>;
        budget_forcing?: Summary;
      };
      if (chunk.choices[0]?.injected) injected.push(chunk.choices[0].injected);
      summary = chunk.budget_forcing ?? summary;
    }
    expect(injected).toEqual(["forced_end"]);
    // "carry the one, " is 15 tokens: two of them after the 12-token preamble, and a little.
    expect(summary!.thinking_tokens).toBeLessThanOrEqual(12 + 2 * 16);
  });
});

describe("eliminate and early_exit", () => {
  it("eliminate rejects the model's first answer in its reasoning and lists it", async () => {
    const completion = await client.chat.completions.create(
      withBudgetForcing(
        { model: "guesser", messages: [{ role: "user", content: "5 + 7?" }] },
        { eliminate: { attempts: 1 } },
      ),
    );
    const summary = (
      completion as unknown as { budget_forcing: Summary & { eliminated_answers?: string[] } }
    ).budget_forcing;
    expect(summary.eliminated_answers).toEqual(["11"]);
    expect(summary.segments.map((s) => s.type)).toEqual([
      "thinking",
      "elimination",
      "thinking",
      "end",
      "answer",
    ]);
    const reasoning = (completion.choices[0]!.message as { reasoning_content?: string })
      .reasoning_content;
    expect(reasoning).toBe("5 + 7 = 11\nWait, the answer is not 11.no: 12\n");
    expect(completion.choices[0]!.message.content).toBe("The answer is 12.");
  });

  it('refuses verifier "reference" outside an experiment, where no reference is known', async () => {
    const error = await client.chat.completions
      .create(
        withBudgetForcing(
          { model: "guesser", messages: [{ role: "user", content: "5 + 7?" }] },
          { eliminate: { verifier: "reference" } },
        ),
      )
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("reference_required");
  });

  it("early_exit reports its probes' tokens in the summary", async () => {
    const completion = await client.completions.create(
      withBudgetForcing(
        { model: "guesser", prompt: "<think>\n" },
        { num_waits: 2, early_exit: { probe_every: 1000, stable: 1 } },
      ),
    );
    const summary = (
      completion as unknown as { budget_forcing: Summary & { probe_tokens?: number } }
    ).budget_forcing;
    // The first end attempt's probe already settles it (stable: 1): no wait, a forced close.
    expect(summary.segments.map((s) => s.type)).toEqual(["thinking", "forced_end", "answer"]);
    expect(summary.probe_tokens).toBe(2);
  });
});
