/**
 * A client written for another server, unchanged, on the bundled tiny
 * reasoner (real inference, a 1,024-token context): every other server's
 * thinking parameter is honoured or refused by name, the token cap has
 * OpenAI's meaning (thinking plus answer), the thinking never lands in
 * `content`, and a budget that cannot fit is refused before anything runs.
 */
import type { EngineEvent } from "@thinkscope/protocol";
import fc from "fast-check";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundledModelApp, parseSse, type TestApp } from "./helpers.ts";

const CONTEXT = 1024;
const QUESTION = [{ role: "user", content: "What is 3891 + 1464?" }];

let server: TestApp;
let base: string;
let client: OpenAI;

beforeAll(async () => {
  ({ server, base } = await bundledModelApp());
  client = new OpenAI({ baseURL: `${base}/v1`, apiKey: "x", maxRetries: 0 });
});
afterAll(() => server.close());

interface ChatBody {
  choices: Array<{ message: { content: string; reasoning_content: string } }>;
  usage: { completion_tokens: number; completion_tokens_details: { reasoning_tokens: number } };
  budget_forcing: { thinking_tokens: number; answer_tokens: number; forced_end: boolean };
  error?: { code: string; param: string | null; message: string; type: string };
}

async function chat(fields: object) {
  const response = await server.app.inject({
    method: "POST",
    url: "/v1/chat/completions",
    payload: { model: "default", messages: QUESTION, ...fields },
  });
  return {
    status: response.statusCode,
    body: response.json() as ChatBody,
    headers: response.headers,
  };
}

/** The settings the stored run used (its `run.started` event). */
async function storedSettings(runId: string) {
  const detail = (await server.app.inject({ url: `/api/runs/${runId}` })).json() as {
    events: EngineEvent[];
  };
  const started = detail.events.find((event) => event.type === "run.started");
  if (started?.type !== "run.started") throw new Error("no run.started event");
  return started.settings;
}

describe("other servers' thinking parameters", () => {
  const budgets: Array<[string, object, number]> = [
    ["vLLM's thinking_token_budget", { thinking_token_budget: 40 }, 40],
    ["llama.cpp's thinking_budget_tokens", { thinking_budget_tokens: 40 }, 40],
    ["OpenAI's reasoning_effort low", { reasoning_effort: "low" }, CONTEXT / 8],
    ["OpenAI's reasoning_effort minimal", { reasoning_effort: "minimal" }, CONTEXT / 32],
    ["OpenRouter's reasoning.effort", { reasoning: { effort: "medium" } }, CONTEXT / 4],
    ["OpenRouter's reasoning.max_tokens", { reasoning: { max_tokens: 40 } }, 40],
    [
      "Anthropic's thinking.budget_tokens",
      { thinking: { type: "enabled", budget_tokens: 40 } },
      40,
    ],
    ["enable_thinking: false", { chat_template_kwargs: { enable_thinking: false } }, 0],
    ["reasoning_effort none", { reasoning_effort: "none" }, 0],
    ["Anthropic's thinking disabled", { thinking: { type: "disabled" } }, 0],
  ];

  it.each(budgets)("honours %s as a thinking budget", async (_name, fields, tokens) => {
    const { status, body, headers } = await chat(fields);
    expect(status, JSON.stringify(body)).toBe(200);
    const param = Object.keys(fields)[0]!;
    expect(headers["x-thinkscope-applied"]).toContain(param);
    expect(headers["x-thinkscope-applied"]).toContain(`max_thinking_tokens=${tokens}`);
    const settings = await storedSettings(headers["x-thinkscope-run-id"] as string);
    expect(settings.maxThinkingTokens).toBe(tokens);
    expect(body.usage.completion_tokens_details.reasoning_tokens).toBeLessThanOrEqual(tokens);
    // A client written for another server gets the answer as the model writes it, no lead-in.
    expect(settings.finalAnswerPrefix).toBe("");
    if (tokens === 0) {
      expect(body.choices[0]!.message.reasoning_content).toBe("");
      expect(body.budget_forcing.forced_end).toBe(true);
    }
    expect(body.choices[0]!.message.content).not.toMatch(/<\/?think>/);
  });

  const refused: Array<[string, object, string]> = [
    [
      "tools (no upstream to honour them)",
      { tools: [{ type: "function", function: { name: "f" } }] },
      "tools",
    ],
    ["a JSON response_format", { response_format: { type: "json_object" } }, "response_format"],
    ["logprobs", { logprobs: true }, "logprobs"],
    ["n > 1", { n: 2 }, "n"],
    ["a presence penalty", { presence_penalty: 0.5 }, "presence_penalty"],
    ["a field nobody knows", { frobnicate: 3 }, "frobnicate"],
    [
      "another chat template argument",
      { chat_template_kwargs: { foo: 1 } },
      "chat_template_kwargs.foo",
    ],
    ["reasoning.exclude", { reasoning: { exclude: true } }, "reasoning.exclude"],
    // Other spellings of the same parameters: wrong types are refused, never read as "no budget".
    ["reasoning as a bare string", { reasoning: "high" }, "reasoning"],
    [
      "enable_thinking as a string",
      { chat_template_kwargs: { enable_thinking: "false" } },
      "chat_template_kwargs.enable_thinking",
    ],
    ["an effort in capitals", { reasoning_effort: "LOW" }, "reasoning_effort"],
    ["a fractional budget", { thinking_token_budget: 40.5 }, "thinking_token_budget"],
    ["thinking without a type", { thinking: { budget_tokens: 40 } }, "thinking.type"],
    ["an unknown effort", { reasoning_effort: "extreme" }, "reasoning_effort"],
    ["a negative budget", { thinking_token_budget: -3 }, "thinking_token_budget"],
    [
      "two budgets that disagree",
      { thinking_token_budget: 40, reasoning_effort: "low" },
      "reasoning_effort",
    ],
    ["a zero cap", { max_completion_tokens: 0 }, "max_completion_tokens"],
  ];

  it.each(refused)("refuses %s by name, and stores nothing", async (_name, fields, param) => {
    const before = server.app.runStore.list({}).total;
    const { status, body } = await chat(fields);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ type: "invalid_request_error", param });
    expect(body.error!.message).toContain(param.split(".")[0]);
    expect(server.app.runStore.list({}).total).toBe(before);
  });

  it("accepts fields at values that change nothing", async () => {
    const { status } = await chat({
      n: 1,
      presence_penalty: 0,
      frequency_penalty: 0,
      logprobs: false,
      tool_choice: "none",
      user: "someone",
    });
    expect(status).toBe(200);
  });
});

describe("token limits with OpenAI's meaning", () => {
  it("never yields more completion tokens than max_completion_tokens, with or without budget_forcing", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 400 }),
        fc.option(fc.record({ num_waits: fc.integer({ min: 0, max: 3 }) }), { nil: undefined }),
        fc.boolean(),
        async (cap, budgetForcing, useMaxTokens) => {
          const { status, body } = await chat({
            [useMaxTokens ? "max_tokens" : "max_completion_tokens"]: cap,
            ...(budgetForcing ? { budget_forcing: budgetForcing } : {}),
          });
          expect(status, JSON.stringify(body)).toBe(200);
          expect(body.usage.completion_tokens).toBeLessThanOrEqual(cap);
          expect(body.usage.completion_tokens).toBe(
            body.budget_forcing.thinking_tokens + body.budget_forcing.answer_tokens,
          );
        },
      ),
      { numRuns: 12 },
    );
  });

  it("refuses a cap too small for the thinking asked for, naming both", async () => {
    const { status, body } = await chat({
      max_completion_tokens: 10,
      budget_forcing: { max_thinking_tokens: 100 },
    });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({
      code: "budget_exceeds_completion_cap",
      param: "max_completion_tokens",
    });
    expect(body.error!.message).toMatch(
      /max_completion_tokens \(10\).*max_thinking_tokens \(100\)/,
    );
  });

  it("refuses up front a thinking budget that leaves no room for the close, naming each part", async () => {
    const before = server.app.runStore.list({}).total;
    const { status, body } = await chat({ budget_forcing: { max_thinking_tokens: 980 } });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({
      code: "budget_exceeds_context",
      param: "budget_forcing.max_thinking_tokens",
    });
    // The user's prompt as rendered (about 40 tokens), not the context at the moment it overflowed.
    const promptTokens = Number(/The prompt \((\d+) tokens\)/.exec(body.error!.message)?.[1]);
    expect(promptTokens).toBeGreaterThan(20);
    expect(promptTokens).toBeLessThan(80);
    expect(body.error!.message).toMatch(/the close \(up to \d+\)/);
    expect(server.app.runStore.list({}).total).toBe(before);
  });
});

describe("reasoning always separated", () => {
  it("never puts a thinking delimiter in content, streamed or not, whatever the settings", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            num_waits: fc.integer({ min: 0, max: 3 }),
            max_thinking_tokens: fc.integer({ min: 0, max: 300 }),
          },
          { requiredKeys: [] },
        ),
        fc.boolean(),
        fc.boolean(),
        async (budget, withBudget, stream) => {
          const response = await fetch(`${base}/v1/chat/completions`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({
              model: "default",
              messages: QUESTION,
              stream,
              ...(withBudget ? { budget_forcing: budget } : {}),
            }),
          });
          const text = await response.text();
          expect(response.status, text).toBe(200);
          let content = "";
          let reasoning = "";
          if (stream) {
            for (const chunk of parseSse(text).slice(0, -1) as Array<{
              choices: Array<{ delta: { content?: string; reasoning_content?: string } }>;
            }>) {
              content += chunk.choices[0]?.delta.content ?? "";
              reasoning += chunk.choices[0]?.delta.reasoning_content ?? "";
            }
          } else {
            const body = JSON.parse(text) as ChatBody;
            content = body.choices[0]!.message.content;
            reasoning = body.choices[0]!.message.reasoning_content;
          }
          expect(content).not.toMatch(/<\/?think>/);
          expect(reasoning).not.toMatch(/<\/?think>/);
        },
      ),
      { numRuns: 10 },
    );
  });

  it("answers a plain request with the thinking in reasoning_content, and stores it", async () => {
    const completion = await client.chat.completions.create({
      model: "default",
      messages: [{ role: "user", content: "What is 3891 + 1464?" }],
    });
    const message = completion.choices[0]!.message as {
      content: string;
      reasoning_content?: string;
    };
    expect(message.reasoning_content?.length).toBeGreaterThan(0);
    expect(completion.usage?.completion_tokens_details?.reasoning_tokens).toBeGreaterThan(0);
    const runs = server.app.runStore.list({ source: "api" });
    expect(runs.runs.some((run) => `chatcmpl-${run.id}` === completion.id)).toBe(true);
  });
});

describe("/v1/models/{id}", () => {
  it("retrieves a listed model and the default, and 404s an unknown one naming the model", async () => {
    const [listed] = (await client.models.list()).data;
    expect((await client.models.retrieve(listed!.id)).id).toBe(listed!.id);
    expect((await client.models.retrieve("default")).id).toBe("default");
    const missing = await client.models.retrieve("no-such-model").catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect((missing as InstanceType<typeof OpenAI.NotFoundError>).param).toBe("model");
  });
});

describe("an operator who turns storing off", () => {
  it("streams API runs and keeps none of them", async () => {
    const { server: unstored } = await bundledModelApp({ storeApiRuns: false });
    try {
      const response = await unstored.app.inject({
        method: "POST",
        url: "/v1/chat/completions",
        payload: { model: "default", messages: QUESTION, max_completion_tokens: 60 },
      });
      expect(response.statusCode).toBe(200);
      expect(response.json().choices[0].message.reasoning_content.length).toBeGreaterThan(0);
      expect(unstored.app.runStore.list({}).total).toBe(0);
    } finally {
      await unstored.close();
    }
  });
});
