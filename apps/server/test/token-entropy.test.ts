/**
 * Each token's entropy: the page's runs ask for it where the backend can
 * report it (its shading and chart show it), store it and give it back;
 * API runs never pay for it; a backend that cannot runs the page without it.
 */
import type { DeltaEvent, EngineEvent } from "@thinkscope/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScriptPerRun, WsClient, buildTestApp, listen, type TestApp } from "./helpers.ts";

const replies = ["Two plus two.</think>", "4"];
/** Unsure every seventh token, sure otherwise. */
const unsure = new ScriptPerRun("unsure", {
  replies,
  tokenEntropy: (position) => (position % 7 === 0 ? 2.5 : 0.04),
});
const plain = new ScriptPerRun("plain", { replies });

let server: TestApp;
let base: string;

beforeAll(async () => {
  server = await buildTestApp({ backends: [unsure, plain] });
  base = await listen(server.app);
});
afterAll(() => server.close());

const deltasOf = (events: EngineEvent[]) =>
  events.filter((e): e is DeltaEvent => e.type === "delta" && e.tokens > 0);

async function pageRun(backend: string): Promise<EngineEvent[]> {
  const page = await WsClient.connect(base);
  try {
    page.send({ type: "run", key: backend, spec: { prompt: "What is 2+2?", backend } });
    return await page.finished(backend, 15_000);
  } finally {
    page.close();
  }
}

describe("token entropy", () => {
  it("comes with every token of a page run, and is stored as it streamed", async () => {
    const events = await pageRun("unsure");
    const deltas = deltasOf(events);
    expect(deltas.length).toBeGreaterThan(5);
    for (const delta of deltas) expect(delta.entropies).toHaveLength(delta.tokens);
    expect(deltas.flatMap((d) => d.entropies!)).toContain(2.5);
    expect(unsure.requests.every((r) => r.tokenEntropy === true)).toBe(true);

    const started = events.find((e) => e.type === "run.started");
    expect(started).toMatchObject({ capabilities: { tokenEntropy: true } });
    const runId = started!.type === "run.started" ? started!.runId : "";
    const stored = (await server.app.inject({ url: `/api/runs/${runId}` })).json();
    expect(deltasOf(stored.events)).toEqual(deltas);
  });

  it("is not asked for by an API run", async () => {
    const before = unsure.requests.length;
    const response = await fetch(`${base}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "unsure-model",
        prompt: "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n",
        budget_forcing: {},
      }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { choices: { text: string }[] };
    expect(body.choices[0]!.text).toContain("4");
    const asked = unsure.requests.slice(before);
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.some((r) => r.tokenEntropy)).toBe(false);
  });

  it("is left out, without an error, on a backend that cannot report it", async () => {
    const events = await pageRun("plain");
    expect(events.at(-1)).toMatchObject({ type: "run.finished", finishReason: "stop" });
    expect(deltasOf(events).some((d) => d.entropies !== undefined)).toBe(false);
    expect(plain.requests.some((r) => r.tokenEntropy)).toBe(false);
  });
});
