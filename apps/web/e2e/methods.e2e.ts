/**
 * The methods beyond s1 on the page: a looping model closed by the loop
 * breaker with a budget message, and probes of early exit, each replayed
 * from the library with its own marks in the text and on the chart.
 */
import { describe, expect, it } from "vitest";
import { screenshot } from "./support/browser.ts";
import { openPage } from "./support/page-actions.ts";
import { LOOPING_BACKEND, setupThinkscope } from "./support/thinkscope.ts";

const ts = setupThinkscope("methods");

/** Runs through the OpenAI-compatible API and returns the stored run's id. */
async function apiRun(model: string, budgetForcing: object): Promise<string> {
  const response = await fetch(`${ts.url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model,
      prompt: "<|im_start|>user\nCount<|im_end|>\n<|im_start|>assistant\n<think>\n",
      budget_forcing: budgetForcing,
    }),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { id: string };
  return body.id.replace(/^cmpl-/, "");
}

/** The library's replay of a stored run. */
async function openReplay(id: string): Promise<void> {
  await openPage(ts.page, ts.url);
  await ts.page.evaluate((hash) => (window.location.hash = hash), `#/library/${id}`);
  await ts.page.locator(".replay-bar").waitFor();
}

describe("methods on the page", () => {
  it("shows the loop breaker's close and the budget message, each marked with its reason", async () => {
    const id = await apiRun(LOOPING_BACKEND, {
      max_thinking_tokens: 400,
      loop_guard: { window: 32, repeats: 2 },
      budget_message: "I keep repeating myself; I answer now.",
    });
    const { page } = ts;
    await openReplay(id);
    const marks = page.locator("[data-injection]");
    await expect
      .poll(() =>
        marks.evaluateAll((els) =>
          els.map((el) => `${el.getAttribute("data-injection")}:${el.getAttribute("data-reason")}`),
        ),
      )
      .toEqual(["budget_message:loop", "forced_end:loop"]);
    const tip = await marks.first().getAttribute("data-tip");
    expect(tip).toMatch(/went round in a loop/);
    await screenshot(page, "methods-loop-guard");
  });

  it("draws each early-exit probe on the chart, and no probe in the text", async () => {
    const id = await apiRun("embedded", {
      num_waits: 1,
      early_exit: { probe_every: 8, stable: 3 },
    });
    const { page } = ts;
    await openReplay(id);
    // Probes at 8, 16, 24 thinking tokens, at the end attempt, and on after the wait.
    await expect.poll(() => page.locator(".recharts-reference-line").count()).toBeGreaterThan(3);
    expect(await page.locator(".trace").textContent()).not.toContain("boxed");
    await screenshot(page, "methods-probes");
  });
});
