/**
 * The official clients, unchanged, against the bundled tiny reasoner (real
 * inference): the `openai` package, the Vercel AI SDK through
 * `@thinkscope/ai-sdk` (the OpenAI-compatible provider with Thinkscope's
 * metadata hook) and LangChain's `ChatOpenAI`; streamed and not; with and
 * without `budget_forcing`. In every cell the thinking is separated from the
 * answer, no delimiter reaches the answer, and usage counts the reasoning;
 * with `budget_forcing` the client can read the run's summary.
 */
import { ChatOpenAI } from "@langchain/openai";
import { createThinkscope, type ThinkscopeMetadata } from "@thinkscope/ai-sdk";
import { generateText, streamText } from "ai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundledModelApp, type TestApp } from "./helpers.ts";

const QUESTION = "What is 3891 + 1464?";
const BUDGET = { num_waits: 1, max_thinking_tokens: 300 };
const DELIMITER = /<\/?think>/;

let server: TestApp;
let baseURL: string;

beforeAll(async () => {
  let base: string;
  ({ server, base } = await bundledModelApp());
  baseURL = `${base}/v1`;
});
afterAll(() => server.close());

/** What every client gives back, read the way its users read it. */
interface Seen {
  reasoning: string;
  content: string;
  reasoningTokens: number | undefined;
  completionTokens: number | undefined;
  /** The run's waits, where the client lets the summary through. */
  waits: number | undefined;
}

type Ask = (stream: boolean, budgetForcing: Record<string, number> | undefined) => Promise<Seen>;

const openaiClient: Ask = async (stream, budgetForcing) => {
  const client = new OpenAI({ baseURL, apiKey: "x", maxRetries: 0 });
  const body = {
    model: "default",
    messages: [{ role: "user" as const, content: QUESTION }],
    ...(budgetForcing ? { budget_forcing: budgetForcing } : {}),
  };
  if (!stream) {
    const completion = await client.chat.completions.create(body);
    const message = completion.choices[0]!.message as {
      content: string;
      reasoning_content?: string;
    };
    return {
      reasoning: message.reasoning_content ?? "",
      content: message.content,
      reasoningTokens: completion.usage?.completion_tokens_details?.reasoning_tokens,
      completionTokens: completion.usage?.completion_tokens,
      waits: (completion as unknown as { budget_forcing?: { waits: number } }).budget_forcing
        ?.waits,
    };
  }
  const chunks = await client.chat.completions.create({
    ...body,
    stream: true,
    stream_options: { include_usage: true },
  });
  const seen: Seen = {
    reasoning: "",
    content: "",
    reasoningTokens: undefined,
    completionTokens: undefined,
    waits: undefined,
  };
  for await (const chunk of chunks) {
    const delta = chunk.choices[0]?.delta as
      { content?: string; reasoning_content?: string } | undefined;
    seen.reasoning += delta?.reasoning_content ?? "";
    seen.content += delta?.content ?? "";
    if (chunk.usage) {
      seen.reasoningTokens = chunk.usage.completion_tokens_details?.reasoning_tokens;
      seen.completionTokens = chunk.usage.completion_tokens;
    }
    const summary = (chunk as unknown as { budget_forcing?: { waits: number } }).budget_forcing;
    if (summary) seen.waits = summary.waits;
  }
  return seen;
};

const aiSdk: Ask = async (stream, budgetForcing) => {
  const thinkscope = createThinkscope({ baseURL, apiKey: "x" });
  const options = {
    model: thinkscope("default"),
    prompt: QUESTION,
    maxRetries: 0,
    ...(budgetForcing
      ? { providerOptions: { thinkscope: { budget_forcing: budgetForcing } } }
      : {}),
  };
  const result = stream ? streamText(options) : await generateText(options);
  const metadata = (await result.providerMetadata)?.thinkscope as ThinkscopeMetadata | undefined;
  const usage = await result.usage;
  return {
    reasoning: (await result.reasoningText) ?? "",
    content: await result.text,
    reasoningTokens: usage.outputTokenDetails.reasoningTokens,
    completionTokens: usage.outputTokens,
    waits: metadata?.budgetForcing?.waits,
  };
};

const langChain: Ask = async (stream, budgetForcing) => {
  const model = new ChatOpenAI({
    model: "default",
    apiKey: "x",
    maxRetries: 0,
    configuration: { baseURL },
    streamUsage: true,
    __includeRawResponse: true,
    ...(budgetForcing ? { modelKwargs: { budget_forcing: budgetForcing } } : {}),
  });
  const seen: Seen = {
    reasoning: "",
    content: "",
    reasoningTokens: undefined,
    completionTokens: undefined,
    waits: undefined,
  };
  const read = (message: {
    content: unknown;
    additional_kwargs: Record<string, unknown>;
    usage_metadata?: { output_tokens: number; output_token_details?: { reasoning?: number } };
  }) => {
    seen.content += typeof message.content === "string" ? message.content : "";
    seen.reasoning += (message.additional_kwargs.reasoning_content as string | undefined) ?? "";
    if (message.usage_metadata) {
      seen.completionTokens = message.usage_metadata.output_tokens;
      seen.reasoningTokens = message.usage_metadata.output_token_details?.reasoning;
    }
    const raw = message.additional_kwargs.__raw_response as
      { budget_forcing?: { waits: number } } | undefined;
    if (raw?.budget_forcing) seen.waits = raw.budget_forcing.waits;
  };
  if (stream) for await (const chunk of await model.stream(QUESTION)) read(chunk);
  else read(await model.invoke(QUESTION));
  return seen;
};

const clients: Array<[string, Ask]> = [
  ["openai", openaiClient],
  ["Vercel AI SDK", aiSdk],
  ["LangChain", langChain],
];
const cells = clients.flatMap(([name, ask]) =>
  [false, true].flatMap((stream) =>
    [undefined, BUDGET].map(
      (budget) =>
        [
          name,
          stream ? "streamed" : "not streamed",
          budget ? "with" : "without",
          ask,
          stream,
          budget,
        ] as const,
    ),
  ),
);

describe("every client, streamed and not, with and without budget_forcing", () => {
  it.each(cells)(
    "%s, %s, %s budget_forcing: reasoning separated, usage right",
    async (_client, _streamed, _with, ask, stream, budget) => {
      const seen = await ask(stream, budget);
      expect(seen.reasoning.length).toBeGreaterThan(0);
      expect(seen.content.length).toBeGreaterThan(0);
      expect(seen.content).not.toMatch(DELIMITER);
      expect(seen.reasoning).not.toMatch(DELIMITER);
      expect(seen.reasoningTokens).toBeGreaterThan(0);
      expect(seen.completionTokens).toBeGreaterThan(seen.reasoningTokens!);
      // The forced wait is thinking, and the client sees it there.
      if (budget) expect(seen.reasoning).toContain("Wait");
      if (budget && stream === false) expect(seen.waits).toBe(1);
      if (budget && stream && _client !== "LangChain") expect(seen.waits).toBe(1);
    },
  );
});

describe("the AI SDK's provider metadata", () => {
  it("carries the run id and, streamed, each injection in order", async () => {
    const thinkscope = createThinkscope({ baseURL, apiKey: "x" });
    const result = streamText({
      model: thinkscope("default"),
      prompt: QUESTION,
      providerOptions: {
        thinkscope: { budget_forcing: { num_waits: 2, max_thinking_tokens: 400 } },
      },
    });
    await result.consumeStream();
    const metadata = (await result.providerMetadata)?.thinkscope as ThinkscopeMetadata;
    expect(metadata.injections?.map((injection) => injection.kind)).toEqual([
      "wait",
      "wait",
      "end",
    ]);
    expect(metadata.runId).toMatch(/^run_[0-9a-f]{16}$/);
    expect(server.app.runStore.get(metadata.runId!)?.summary?.waits).toBe(2);
  });
});
