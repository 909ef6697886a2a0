/**
 * The Experiments tab against the real server and the embedded backend on
 * the generated counting model (it thinks a..z and answers 42 whatever it
 * is asked): an experiment started from the page, its progress watched live
 * to the end, the three charts drawn, a chart exported; then cancel and
 * resume from the page.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { screenshot } from "./support/browser.ts";
import { openPage, parseCount } from "./support/page-actions.ts";
import { setupThinkscope } from "./support/thinkscope.ts";

const ts = setupThinkscope("experiments");

/** Three problems; the counting model's answer (42) is right for two of them. */
const DATASET = [
  { problem: "What is 6 x 7?", answer: 42 },
  { problem: "What is 40 + 2?", answer: 42 },
  { problem: "What is 3 + 4?", answer: 7 },
]
  .map((row) => JSON.stringify(row))
  .join("\n");

/** Fills the form: the uploaded dataset, num_waits 0 and 1, `samples` samples per problem. */
async function fillForm(page: Page, options: { name: string; samples: number }): Promise<void> {
  const form = page.getByRole("form", { name: "New experiment" });
  await form.getByLabel("Name", { exact: true }).fill(options.name);
  await form.getByRole("radio", { name: "Upload" }).check();
  await form.getByLabel("JSONL file").setInputFiles({
    name: "forty-two.jsonl",
    mimeType: "application/x-ndjson",
    buffer: Buffer.from(DATASET),
  });
  await form.getByText("forty-two.jsonl: 3 rows").waitFor();
  await form.getByLabel("num_waits", { exact: true }).fill("0, 1");
  await form.getByLabel("max_thinking_tokens", { exact: true }).fill("256");
  await form.getByLabel("Max answer tokens").fill("16");
  await form.getByLabel("Samples per problem").fill(String(options.samples));
  await form.getByLabel("Temperature").fill("0");
}

/** Records every distinct (status, done) pair the progress panel shows, as the DOM changes. */
async function recordProgress(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const w = window as unknown as { __progress: string[]; __progressObserver?: MutationObserver };
    w.__progressObserver?.disconnect();
    w.__progress = [];
    const snap = () => {
      const status = document.querySelector("[data-testid=experiment-status]")?.textContent;
      const done = document.querySelector("[data-testid=experiment-done]")?.textContent;
      if (status == null || done == null) return;
      const entry = `${status}:${done}`;
      if (w.__progress.at(-1) !== entry) w.__progress.push(entry);
    };
    w.__progressObserver = new MutationObserver(snap);
    w.__progressObserver.observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
    });
    snap();
  });
  return () => page.evaluate(() => (window as unknown as { __progress: string[] }).__progress);
}

const status = (page: Page) => page.getByTestId("experiment-status");

describe("experiments", () => {
  it("starts an experiment from the page, follows its progress to the end and draws the three charts", async () => {
    const { page } = ts;
    await openPage(page, ts.url, { hash: "#/experiments" });
    await fillForm(page, { name: "e2e forty-two", samples: 2 });
    // 3 problems x 2 settings (num_waits 0 and 1) x 2 samples, shown before starting.
    expect(await page.getByTestId("experiment-item-count").textContent()).toBe(
      "3 problems × 2 settings × 2 samples = 12 items",
    );
    await screenshot(page, "experiments-form");

    await page.getByRole("button", { name: "Start experiment" }).click();
    await page.waitForURL(/#\/experiments\/[^/]+$/);
    const progress = await recordProgress(page);
    await page.getByTestId("experiment-progress-bar").waitFor();
    await screenshot(page, "experiments-progress");

    await expect
      .poll(async () => status(page).textContent(), { timeout: 90_000, interval: 250 })
      .toBe("completed");
    expect(parseCount(await page.getByTestId("experiment-done").textContent())).toBe(12);
    expect(parseCount(await page.getByTestId("experiment-failed").textContent())).toBe(0);
    expect(parseCount(await page.getByTestId("experiment-pending").textContent())).toBe(0);
    expect(parseCount(await page.getByTestId("experiment-tokens").textContent())).toBeGreaterThan(
      12 * 26,
    );

    // Live: the page showed the count climbing while the experiment ran, not only its end.
    const seen = await progress();
    const between = seen
      .filter((s) => s.startsWith("running:"))
      .map((s) => parseCount(s.slice("running:".length)))
      .filter((n) => n > 0 && n < 12);
    expect(between.length, `progress shown while running: ${seen.join(" ")}`).toBeGreaterThan(0);
    expect(between).toEqual([...between].sort((a, b) => a - b));

    // The three charts, each an SVG with a point per setting (or per k).
    const scaling = page.getByTestId("chart-scaling");
    const seqPar = page.getByTestId("chart-sequential-parallel");
    const passAtK = page.getByTestId("chart-pass-at-k");
    await expect
      .poll(() => scaling.locator("svg.recharts-surface .recharts-scatter-symbol").count())
      .toBe(2);
    // Budget forcing: 2 settings; majority vote: n = 1 and 2.
    await expect
      .poll(() => seqPar.locator("svg.recharts-surface .recharts-scatter-symbol").count())
      .toBe(4);
    // pass@1 and pass@2 for each of the 2 settings.
    await expect.poll(() => passAtK.locator("svg.recharts-surface .recharts-dot").count()).toBe(4);
    // The counting model answers 42: right on 2 of the 3 problems with any setting.
    expect(await page.locator(".exp-metric[data-metric=performance] .value").textContent()).toBe(
      "66.7%",
    );
    expect(await page.locator(".exp-metric[data-metric=control] .value").textContent()).toBe(
      "100%",
    );

    // Per problem: every sample's answer links to its stored trace.
    const rows = page.locator(".exp-problem-table tbody tr");
    expect(await rows.count()).toBe(3);
    expect(await rows.nth(0).locator(".exp-score").allTextContents()).toEqual(["2/2", "2/2"]);
    expect(await rows.nth(2).locator(".exp-score").allTextContents()).toEqual(["0/2", "0/2"]);
    const traceLinks = rows.nth(0).locator(".exp-answers a");
    expect(await traceLinks.count()).toBe(4);
    expect(await traceLinks.first().textContent()).toBe("42");
    expect(await traceLinks.first().getAttribute("href")).toMatch(/^#\/library\/[^/]+$/);
    await screenshot(page, "experiments-results");

    // A chart as a standalone SVG: colours resolved, no CSS variables left, a legend inside.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      scaling.getByRole("button", { name: "SVG of Accuracy against thinking tokens" }).click(),
    ]);
    const svg = readFileSync((await download.path())!, "utf8");
    expect(download.suggestedFilename()).toMatch(/-accuracy-vs-thinking-tokens\.svg$/);
    expect(svg).toContain("<svg");
    expect(svg).toContain("recharts-scatter-symbol");
    expect(svg).toContain("Accuracy against thinking tokens");
    expect(svg).not.toContain("var(--");
    const [png] = await Promise.all([
      page.waitForEvent("download"),
      passAtK.getByRole("button", { name: "PNG of pass@k" }).click(),
    ]);
    const bytes = readFileSync((await png.path())!);
    expect(bytes.subarray(1, 4).toString()).toBe("PNG");

    // Dark theme and projector mode: the charts read the theme's colours and grow.
    await page.getByRole("button", { name: "Theme: system" }).click();
    await page.getByRole("button", { name: "Theme: light" }).click();
    await page.getByRole("button", { name: "Projector mode" }).click();
    await screenshot(page, "experiments-results-dark-projector");

    // A trace link opens the run in the library.
    await traceLinks.first().click();
    await page.locator(".replay-bar").waitFor();
    expect((await page.locator("[data-segment=answer]").first().textContent())?.trim()).toBe("42");
    expect(ts.pageErrors).toEqual([]);
  });

  it("runs the tiny-reasoner preset's held-out problems from the page", async () => {
    const { page } = ts;
    await openPage(page, ts.url, { hash: "#/experiments" });
    const form = page.getByRole("form", { name: "New experiment" });
    await form.getByRole("radio", { name: "Preset" }).check();
    await form.getByRole("combobox", { name: "Preset" }).selectOption("tiny-reasoner");
    // This server runs the counting model, not the tiny reasoner: name the backend, take
    // two problems and one setting of its own.
    await form.getByLabel("Backend", { exact: true }).selectOption("embedded");
    await form.getByLabel("Take at most (limit)").fill("2");
    await form.getByLabel("Run the preset's own settings").uncheck();
    await form.getByLabel("num_waits", { exact: true }).fill("0");
    await form.getByLabel("Samples per problem").fill("1");
    expect(await page.getByTestId("experiment-item-count").textContent()).toMatch(
      /^(2 problems|up to 2 problems) × 1 setting × 1 sample = (at most )?2 items$/,
    );
    await page.getByRole("button", { name: "Start experiment" }).click();
    await page.waitForURL(/#\/experiments\/[^/]+$/);
    await expect
      .poll(async () => status(page).textContent(), { timeout: 60_000, interval: 250 })
      .toBe("completed");
    // The preset's file, sliced to its first two problems.
    expect(await page.locator(".exp-detail-head .hint").textContent()).toMatch(
      /tiny-reasoner\.heldout\.jsonl .*2 problems of 200/,
    );
    expect(await page.locator(".exp-problem-table tbody tr").count()).toBe(2);
    expect(ts.pageErrors).toEqual([]);
  });

  it("cancels a running experiment from the page and resumes it to the end", async () => {
    const { page } = ts;
    await openPage(page, ts.url, { hash: "#/experiments" });
    await fillForm(page, { name: "e2e cancel and resume", samples: 2 });
    await page.getByRole("button", { name: "Start experiment" }).click();
    await page.waitForURL(/#\/experiments\/[^/]+$/);

    await expect
      .poll(async () => parseCount(await page.getByTestId("experiment-done").textContent()), {
        timeout: 60_000,
        interval: 100,
      })
      .toBeGreaterThan(0);
    await page.getByRole("button", { name: "Cancel", exact: true }).click();
    await expect
      .poll(async () => status(page).textContent(), { timeout: 30_000 })
      .toBe("cancelled");
    const kept = parseCount(await page.getByTestId("experiment-done").textContent());
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(12);
    await expect(page.getByText("Resume continues where it stopped").count()).resolves.toBe(1);
    await screenshot(page, "experiments-cancelled");

    await page.getByRole("button", { name: "Resume", exact: true }).click();
    await expect
      .poll(async () => status(page).textContent(), { timeout: 90_000, interval: 250 })
      .toBe("completed");
    expect(parseCount(await page.getByTestId("experiment-done").textContent())).toBe(12);

    // The list shows both experiments; a finished one can be deleted from it.
    await page.getByRole("link", { name: "← All experiments" }).click();
    const row = page.locator(".exp-list tr", { hasText: "e2e cancel and resume" });
    await row.waitFor();
    expect(await row.locator(".status-tag").textContent()).toBe("completed");
    page.once("dialog", (dialog) => void dialog.accept());
    await row.getByRole("button", { name: /^Delete experiment/ }).click();
    await row.waitFor({ state: "detached" });
    expect(ts.pageErrors).toEqual([]);
  });
});
