/**
 * The trace laboratory: in a finished run, click a point, insert `Wait`,
 * continue; the branch streams beside its parent, appears in the tree, and
 * comparing the two marks where they diverge: at that point.
 */
import { describe, expect, it } from "vitest";
import { screenshot } from "./support/browser.ts";
import { FINISHED, openPage, waitForRunState } from "./support/page-actions.ts";
import { setupThinkscope } from "./support/thinkscope.ts";

const ts = setupThinkscope("lab");

describe("trace laboratory", () => {
  it("forks a finished trace at a clicked point with an inserted Wait, shows the branch in the tree and the divergence there", async () => {
    const { page } = ts;
    const prompt = `Lab check ${Date.now()}`;
    await openPage(page, ts.url, { query: { prompt } });
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await waitForRunState(page, FINISHED);

    await page.getByRole("link", { name: "Library", exact: true }).click();
    await page.locator(".run-table tr", { hasText: prompt }).locator("a").click();
    const lab = page.getByRole("region", { name: "Trace laboratory" });
    await lab.waitFor();

    // The counting model thinks a..z: click the 10th letter to fork right after it.
    await lab.locator('.point-picker .token[data-at="9"]').click();
    await expect.poll(() => lab.getByTestId("fork-caret").getAttribute("data-at")).toBe("10");
    expect(await lab.getByTestId("fork-point").textContent()).toBe("10");
    await lab.getByRole("button", { name: "Insert “Wait”" }).click();
    expect(await lab.getByLabel("Text to insert").inputValue()).toBe("Wait");
    await lab.getByRole("button", { name: "Continue from here" }).click();

    const branch = lab.getByLabel("New branch");
    await branch.locator(".status-tag", { hasText: "completed" }).waitFor({ timeout: 30_000 });
    // The branch keeps the parent's first 10 tokens, then the inserted Wait, then the model's own text.
    const branchText = await branch.getByRole("region", { name: "Branch trace" }).textContent();
    expect(branchText).toContain("abcdefghij");
    expect(await branch.locator("[data-injection=insert]").textContent()).toContain("Wait");
    await screenshot(page, "lab-branch");

    const nodes = lab.locator(".branch-tree li[data-run-id]");
    await expect.poll(() => nodes.count()).toBe(2);
    const child = nodes.filter({ hasText: "fork @10" });
    expect(await child.locator(".branch-insert").textContent()).toBe("+“Wait”");

    for (const box of await lab.locator(".branch-tree input[type=checkbox]").all())
      await box.check();
    const divergence = lab.getByTestId("divergence");
    await divergence.waitFor();
    expect(await divergence.getAttribute("data-at")).toBe("10");
    expect(await divergence.textContent()).toBe("Diverges at token 10");
    expect(await lab.locator(".shared-text").textContent()).toBe("abcdefghij");
    const columns = lab.locator(".compare-branch pre");
    expect(await columns.count()).toBe(2);
    expect(await columns.nth(0).textContent()).toMatch(/^klm/);
    expect(await columns.nth(1).textContent()).toMatch(/^Wait/);
    await divergence.scrollIntoViewIfNeeded();
    await screenshot(page, "lab-compare");

    // Resampling every sentence streams its progress, then shades the sentences.
    await lab.getByRole("button", { name: "Resample every sentence" }).click();
    await lab
      .getByTestId("resample-progress")
      .filter({ hasText: /^completed/ })
      .waitFor({ timeout: 60_000 });
    expect(await lab.locator(".importance-row").count()).toBeGreaterThan(0);
    await lab.locator(".importance-row").first().click();
    await lab.locator(".answer-bars li").first().waitFor();
    await lab.locator(".importance").scrollIntoViewIfNeeded();
    await screenshot(page, "lab-importance");
    expect(ts.pageErrors).toEqual([]);
  }, 180_000);
});
