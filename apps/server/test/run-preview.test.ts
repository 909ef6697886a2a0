/**
 * `POST /api/runs/preview` on the bundled tiny reasoner (a 1,024-token
 * context, so the default budgets must be fitted): the page's path (the
 * preview's prompt tokens through the protocol's `fitToContext`) and the
 * API's path (a real run) choose the same budgets for the same model and prompt.
 */
import { fitToContext, type BudgetForcing, type RunPreview } from "@thinkscope/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WsClient, bundledModelApp, type TestApp } from "./helpers.ts";

let server: TestApp;
let base: string;

beforeAll(async () => {
  ({ server, base } = await bundledModelApp());
});
afterAll(() => server.close());

async function preview(spec: object): Promise<RunPreview> {
  const response = await server.app.inject({
    method: "POST",
    url: "/api/runs/preview",
    payload: spec,
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as RunPreview;
}

describe("a run's preview", () => {
  const budgets: BudgetForcing[] = [
    {},
    { num_waits: 1 },
    { max_thinking_tokens: 600 },
    { max_answer_tokens: 64 },
    { max_thinking_tokens: 300, max_answer_tokens: 40 },
  ];
  const prompts = ["What is 3891 + 1464?", "What is 12 + 7?\n".repeat(20)];

  it.each(prompts.flatMap((prompt) => budgets.map((budget) => [prompt, budget] as const)))(
    "chooses the budgets the run uses: %j %j",
    async (prompt, budget) => {
      const spec = { prompt, budget_forcing: budget, sampling: { temperature: 0 } };
      const seen = await preview(spec);
      expect(seen.contextLength).toBe(1024);
      expect(seen.promptTokensExact).toBe(true);
      // The page's path: the protocol's one fitting rule on the preview's count.
      const onPage = fitToContext(budget, {
        contextLength: seen.contextLength!,
        promptTokens: seen.promptTokens,
        closeTokens: seen.closeTokens,
      });
      expect(onPage).toEqual({
        max_thinking_tokens: seen.settings.maxThinkingTokens,
        max_answer_tokens: seen.settings.maxAnswerTokens,
      });
      // The API's path: a real run of the same spec.
      const client = await WsClient.connect(base);
      try {
        client.send({ type: "run", key: "k", spec });
        const events = await client.finished("k", 30_000);
        const started = events.find((event) => event.type === "run.started");
        expect(started?.type === "run.started" && started.promptTokens).toBe(seen.promptTokens);
        expect(started?.type === "run.started" && started.settings).toEqual(seen.settings);
      } finally {
        client.close();
      }
    },
  );

  it("shows the prompt as the model sees it, and stores and generates nothing", async () => {
    const before = server.app.runStore.list().total;
    const seen = await preview({ prompt: "What is 1 + 2?" });
    expect(seen.renderedPrompt).toBe(
      "<|im_start|>user\nWhat is 1 + 2?<|im_end|>\n<|im_start|>assistant\n<think>\n",
    );
    expect(server.app.runStore.list().total).toBe(before);
  });

  it("refuses what the run would refuse, with the same code", async () => {
    for (const [budget, code] of [
      [{ min_thinking_tokens: 50, max_thinking_tokens: 10 }, "invalid_budget"],
      [{ max_thinking_tokens: 2000 }, "budget_exceeds_context"],
      [{ wait_string: [] }, "invalid_request"],
    ] as const) {
      const response = await server.app.inject({
        method: "POST",
        url: "/api/runs/preview",
        payload: { prompt: "What is 1 + 2?", budget_forcing: budget },
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe(code);
    }
  });
});
