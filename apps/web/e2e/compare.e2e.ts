/**
 * Compare: one prompt at a ladder of three budgets (0, 1 and 2 waits), run
 * at once, traces side by side, curves overlaid, each with its answer.
 */
import { describe, expect, it } from "vitest";
import { screenshot } from "./support/browser.ts";
import { FINISHED, openPage, parseCount } from "./support/page-actions.ts";
import { setupThinkscope } from "./support/thinkscope.ts";

const ts = setupThinkscope("compare");

describe("compare", () => {
  it("runs a ladder of three budgets and shows three traces with their answers", async () => {
    const { page } = ts;
    await openPage(page, ts.url, {
      query: { prompt: "Count, three ways.", ladder: "num_waits:0,1,2" },
      hash: "#/compare",
    });
    await page.getByRole("button", { name: "Run 3 runs", exact: true }).click();

    const columns = page.locator(".compare-run");
    await expect.poll(() => columns.count()).toBe(3);
    for (let i = 0; i < 3; i++) {
      await columns
        .nth(i)
        .locator(".run-status .state", { hasText: FINISHED })
        .waitFor({ timeout: 60_000 });
    }
    await screenshot(page, "compare-ladder");

    // Rung i was sent back i times; every rung ends with the model's own close and answers 42.
    for (let i = 0; i < 3; i++) {
      const column = columns.nth(i);
      expect(await column.locator("header h3").textContent()).toBe(
        i === 1 ? "1 wait" : `${i} waits`,
      );
      expect(await column.locator("[data-injection=wait]").count()).toBe(i);
      expect(await column.locator("[data-injection=end]").count()).toBe(1);
      expect((await column.locator("[data-segment=answer]").textContent())?.trim()).toBe("42");
      const thinking = parseCount(
        await column.locator(".compare-numbers strong").first().textContent(),
      );
      expect(thinking).toBe(26 + 8 * i);
    }
    // One curve per rung in the overlaid chart.
    await expect.poll(() => page.locator(".chart-panel .recharts-line").count()).toBe(3);
    expect(ts.pageErrors).toEqual([]);
  });
});
