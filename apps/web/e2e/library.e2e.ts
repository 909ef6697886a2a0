/**
 * The run library: a run made in the playground is listed, and opening it
 * replays it from its stored events with the same marks and chart.
 */
import { describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { screenshot } from "./support/browser.ts";
import {
  FINISHED,
  openPage,
  parseCount,
  startDomRecorder,
  waitForRunState,
} from "./support/page-actions.ts";
import { setupThinkscope } from "./support/thinkscope.ts";

const ts = setupThinkscope("library");

/** Each mark's kind and the thinking-token index it was injected at. */
async function marks(page: Page): Promise<string[]> {
  return page
    .locator("[data-injection]")
    .evaluateAll((els) =>
      els.map(
        (el) => `${el.getAttribute("data-injection")}@${el.getAttribute("data-thinking-token")}`,
      ),
    );
}

describe("library", () => {
  it("opens a run from the library and replays it with the same marks and chart", async () => {
    const { page } = ts;
    const prompt = `Library check ${Date.now()}`;
    await openPage(page, ts.url, { query: { num_waits: "2", prompt } });
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await waitForRunState(page, FINISHED);
    const live = await marks(page);
    expect(live).toEqual(["wait@26", "wait@34", "end@42"]);

    await page.getByRole("link", { name: "Library", exact: true }).click();
    const row = page.locator(".run-table tr", { hasText: prompt });
    await row.waitFor();
    expect(await row.locator(".status-tag").textContent()).toBe("completed");
    await screenshot(page, "library-list");

    await row.locator("a").click();
    await page.locator(".replay-bar").waitFor();
    expect(page.url()).toMatch(/#\/library\/[^/]+$/);
    expect(await page.getByLabel("Prompt", { exact: true }).textContent()).toBe(prompt);
    await expect.poll(() => marks(page)).toEqual(live);
    expect((await page.locator("[data-segment=answer]").first().textContent())?.trim()).toBe("42");
    expect(parseCount(await page.getByTestId("thinking-tokens").textContent())).toBe(42);
    expect(await page.getByTestId("waits").textContent()).toBe("2");
    await expect.poll(() => page.locator(".recharts-reference-line").count()).toBe(3);
    await screenshot(page, "library-replay");

    // Replaying at 16x draws the run again from its first event and ends with the same marks.
    const snapshots = await startDomRecorder(page);
    const playback = page.getByRole("group", { name: "Playback" });
    await playback.getByLabel("Speed").selectOption("16");
    await playback.getByRole("button", { name: "⟲ Replay" }).click();
    await expect
      .poll(async () => (await snapshots()).some((s) => s.waits + s.ends < 3), { timeout: 10_000 })
      .toBe(true);
    await expect.poll(() => page.getByRole("button", { name: "Show all" }).isDisabled()).toBe(true);
    expect(await marks(page)).toEqual(live);
    expect((await page.locator("[data-segment=answer]").first().textContent())?.trim()).toBe("42");
    expect(ts.pageErrors).toEqual([]);
  });
});
