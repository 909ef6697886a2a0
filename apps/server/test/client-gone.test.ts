/**
 * A client that goes away must not leave the upstream generating for nobody:
 * the upstream request is aborted within a second and the run is stored as
 * interrupted with what was generated.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ScriptPerRun,
  THINK_PROMPT,
  buildTestApp,
  listen,
  waitFor,
  type TestApp,
} from "./helpers.ts";

const slow = new ScriptPerRun("slow", {
  replies: ["z".repeat(5000) + "</think>", "late"],
  chunkDelayMs: 20,
});

let server: TestApp;
let base: string;

beforeAll(async () => {
  server = await buildTestApp({ backends: [slow] });
  base = await listen(server.app);
});
afterAll(() => server.close());

async function latestRun() {
  return waitFor(() => server.app.runStore.list({ limit: 1 }).runs[0]);
}

describe("a client leaving an OpenAI request", () => {
  it("closing an SSE stream aborts the upstream within a second", async () => {
    const controller = new AbortController();
    const response = await fetch(`${base}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        messages: [{ role: "user", content: "Q" }],
        stream: true,
        budget_forcing: {},
      }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    let received = "";
    while ((received.match(/reasoning_content/g) ?? []).length < 5) {
      received += new TextDecoder().decode((await reader.read()).value);
    }
    const cancelledBefore = slow.cancelled;
    const requestsBefore = slow.requests.length;
    const closedAt = performance.now();
    controller.abort();

    await waitFor(() => slow.cancelled > cancelledBefore, { timeoutMs: 1_000 });
    expect(performance.now() - closedAt).toBeLessThan(1_000);
    const run = await waitFor(async () => {
      const latest = await latestRun();
      return latest.status === "interrupted" && server.app.runStore.get(latest.id);
    });
    expect(run.text).toMatch(/^z{5,}$/);
    expect(slow.requests.length).toBe(requestsBefore);
    expect(server.app.runService.activeCount).toBe(0);
  });

  it("dropping a non-streaming request aborts the upstream too", async () => {
    const controller = new AbortController();
    const pending = fetch(`${base}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: THINK_PROMPT, budget_forcing: {} }),
      signal: controller.signal,
    }).catch(() => "aborted");
    await waitFor(() => server.app.runService.activeCount === 1 && slow.requests.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const cancelledBefore = slow.cancelled;
    controller.abort();
    expect(await pending).toBe("aborted");
    await waitFor(() => slow.cancelled > cancelledBefore, { timeoutMs: 1_000 });
    const latest = await waitFor(async () => {
      const run = await latestRun();
      return run.status === "interrupted" && run;
    });
    expect(latest.source).toBe("api");
  });
});
