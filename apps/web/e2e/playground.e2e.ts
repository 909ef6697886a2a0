/**
 * The playground against the real server and the embedded backend on the
 * generated test models: a run with two Waits watched live, Stop mid-run,
 * and Ctrl+Enter.
 */
import { describe, expect, it } from "vitest";
import { screenshot } from "./support/browser.ts";
import {
  FINISHED,
  openPage,
  parseCount,
  runState,
  startDomRecorder,
  STOPPED,
  waitForRunState,
} from "./support/page-actions.ts";
import { LOOPING_BACKEND, setupThinkscope } from "./support/thinkscope.ts";

const ts = setupThinkscope("playground");
const ALPHABET = "abcdefghijklmnopqrstuvwxyz";

describe("playground", () => {
  it("shows two Waits and the model's own close appear live, the chart following, then the answer 42", async () => {
    const { page } = ts;
    await openPage(page, ts.url, { query: { num_waits: "2", prompt: "Count the letters." } });
    const snapshots = await startDomRecorder(page);

    await page.getByRole("button", { name: "Run", exact: true }).click();
    await waitForRunState(page, FINISHED);
    await screenshot(page, "playground-two-waits");

    // Final state: the counting model thinks a..z, is sent back twice with "Wait"
    // (t..z each time), then its own </think> is accepted and it answers 42.
    await expect.poll(() => page.locator("[data-injection=wait]").count()).toBe(2);
    expect(await page.locator("[data-injection=end]").count()).toBe(1);
    expect(await page.locator("[data-injection=forced_end]").count()).toBe(0);
    expect(await page.locator("[data-injection=wait]").allTextContents()).toEqual(["Wait", "Wait"]);
    const thinking = (await page.locator("[data-segment=thinking]").allTextContents()).join("|");
    expect(thinking).toBe(`${ALPHABET}|tuvwxyz|tuvwxyz`);
    expect((await page.locator("[data-segment=answer]").first().textContent())?.trim()).toBe("42");
    expect(await page.getByTestId("waits").textContent()).toBe("2");
    // 26 + 7 + 7 generated and 2 injected thinking tokens.
    expect(parseCount(await page.getByTestId("thinking-tokens").textContent())).toBe(42);
    expect(await page.getByTestId("tokens-per-second").textContent()).toMatch(/\d/);
    // Each wait mark says where and why it happened.
    const firstWait = page.locator("[data-injection=wait]").first();
    expect(await firstWait.getAttribute("data-tip")).toMatch(
      /At thinking token 26,[\s\S]*wait 1 of num_waits = 2/,
    );
    // One chart marker per injection (the budget of 2048 is far above the curve, so no budget line).
    await expect.poll(() => page.locator(".recharts-reference-line").count()).toBe(3);
    // Pointing at a chip shows its tip and lights its marker on the chart; leaving puts both back.
    const widths = () =>
      page
        .locator(".recharts-reference-line line")
        .evaluateAll((lines) => lines.map((line) => line.getAttribute("stroke-width")));
    await firstWait.hover();
    await expect.poll(widths).toEqual(["5", "2", "2"]);
    expect(await firstWait.evaluate((chip) => getComputedStyle(chip, "::after").content)).toContain(
      "At thinking token 26",
    );
    await screenshot(page, "playground-wait-highlighted");
    await page.mouse.move(0, 0);
    await expect.poll(widths).toEqual(["2", "2", "2"]);
    // And the reverse: pointing at the second Wait's marker lights it and its chip, and only that chip.
    const lit = () =>
      page
        .locator("[data-injection=wait]")
        .evaluateAll((chips) => chips.map((chip) => chip.getAttribute("data-highlighted")));
    await page.locator(".marker-hit[data-marker=wait]").nth(1).hover();
    await expect.poll(widths).toEqual(["2", "5", "2"]);
    await expect.poll(lit).toEqual([null, "true"]);
    await page.mouse.move(0, 0);
    await expect.poll(lit).toEqual([null, null]);
    await expect.poll(widths).toEqual(["2", "2", "2"]);

    // Live: the page showed the run in between, not only its end.
    const seen = await snapshots();
    const thinkingStates = seen.filter((s) => s.state === "Thinking…");
    expect(
      // (Both Waits may arrive in one frame when the page is behind a fast model: seven tokens apart.)
      thinkingStates.some((s) => s.waits >= 1 && s.ends === 0),
      `a Wait was on screen while the model still thought: ${JSON.stringify(seen)}`,
    ).toBe(true);
    const counts = [...new Set(thinkingStates.map((s) => parseCount(s.thinkingTokens)))].filter(
      (n) => !Number.isNaN(n),
    );
    expect(
      counts.length,
      `thinking tokens grew while streaming: ${counts.join(", ")}`,
    ).toBeGreaterThanOrEqual(3);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    // The chart follows the stream (at most 5 redraws a second, so it is the
    // line that is seen to grow; a marker may land after a fast run ends).
    const linesWhileThinking = new Set(thinkingStates.map((s) => s.chartLine).filter(Boolean));
    expect(
      linesWhileThinking.size,
      `the chart redrew while the model thought: ${JSON.stringify(seen.map((s) => [s.t, s.chartLine.length, s.state]))}`,
    ).toBeGreaterThanOrEqual(2);
    expect(ts.pageErrors).toEqual([]);
  });

  it("stops a run that would not end by itself and keeps what was generated", async () => {
    const { page } = ts;
    await openPage(page, ts.url, {
      query: { max_thinking_tokens: "3000", max_answer_tokens: "16", prompt: "Count forever." },
    });
    // The looping model is the second backend: pick it in the page's own picker.
    await page.getByLabel("Backend", { exact: true }).selectOption(LOOPING_BACKEND);

    await page.getByRole("button", { name: "Run", exact: true }).click();
    const tokens = page.getByTestId("thinking-tokens");
    await expect
      .poll(async () => parseCount(await tokens.textContent()), { timeout: 20_000 })
      .toBeGreaterThan(40);
    expect(await runState(page).textContent()).toBe("Thinking…");
    await page.getByRole("button", { name: "Stop", exact: true }).click();
    await waitForRunState(page, STOPPED);
    await screenshot(page, "playground-stopped");

    // Stopped well before the budget: no close was injected, the text is kept,
    // and the count matches it (each token of this model is one letter).
    const count = parseCount(await tokens.textContent());
    expect(count).toBeGreaterThan(40);
    expect(count).toBeLessThan(3000);
    expect(await page.locator("[data-injection]").count()).toBe(0);
    const kept = (await page.locator("[data-segment=thinking]").allTextContents()).join("");
    expect(kept.startsWith(ALPHABET + ALPHABET.slice(0, 10))).toBe(true);
    expect(kept.length).toBe(count);
    expect(await page.getByRole("button", { name: "Stop", exact: true }).isDisabled()).toBe(true);

    // The server stored it as aborted, with the same number of thinking tokens.
    const runLink = page.locator(".run-status a", { hasText: "stored as" });
    const runId = (await runLink.textContent())!.replace("stored as ", "").trim();
    const stored = (await (await fetch(`${ts.url}/api/runs/${runId}`)).json()) as {
      status: string;
      summary?: { thinking_tokens?: number };
    };
    expect(stored.status).toBe("aborted");
    expect(stored.summary?.thinking_tokens).toBe(count);
    expect(ts.pageErrors).toEqual([]);
  });

  it("runs with Ctrl+Enter from the keyboard", async () => {
    const { page } = ts;
    await openPage(page, ts.url, { query: { prompt: "Count, from the keyboard." } });
    await page.getByLabel("Question").focus();
    await page.keyboard.press("Control+Enter");
    await waitForRunState(page, FINISHED);
    await screenshot(page, "playground-keyboard");

    // num_waits 0: the model's own close is accepted at once.
    expect(await page.locator("[data-injection=wait]").count()).toBe(0);
    expect(await page.locator("[data-injection=end]").count()).toBe(1);
    expect(parseCount(await page.getByTestId("thinking-tokens").textContent())).toBe(26);
    expect((await page.locator("[data-segment=answer]").first().textContent())?.trim()).toBe("42");
    // The key went to the page's shortcut, not into the prompt.
    expect(await page.getByLabel("Question").inputValue()).toBe("Count, from the keyboard.");
    expect(ts.pageErrors).toEqual([]);
  });
});
