/**
 * Shading the thinking by each token's entropy, in Chromium against the real
 * server: on the bundled tiny reasoner (the embedded backend reports each
 * token's entropy) the shaded stretches are where the model weighs a column's
 * carry, and the chart draws an entropy line with its axis and legend; on a
 * backend that cannot report entropy (the test-only scripted backend) the
 * choice is disabled and says why. Screenshots in both themes
 * (artifacts/e2e/entropy-*).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium, screenshot } from "./support/browser.ts";
import { FINISHED, openPage, waitForRunState } from "./support/page-actions.ts";
import { startServerProcess, type ServerProcess } from "./support/server-process.ts";
import { ensureWebBuild } from "./support/web-build.ts";

const PLAIN =
  'scripted:{"id":"plain","replies":["Two and two make four.</think>","The answer is 4."]}';

let server: ServerProcess | undefined;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  ensureWebBuild();
  [server, browser] = await Promise.all([
    startServerProcess({
      name: "entropy",
      backends: ["embedded", PLAIN],
      env: { THINKSCOPE_ENABLE_TEST_BACKENDS: "1" },
    }),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await Promise.all(contexts.map((context) => context.close()));
  await browser?.close();
  await server?.stop();
});

async function newPage(colorScheme: "light" | "dark"): Promise<Page> {
  const context = await browser!.newContext({
    viewport: { width: 1440, height: 900 },
    colorScheme,
  });
  contexts.push(context);
  const page = await context.newPage();
  page.on("pageerror", (error) => pageErrors.push(error.message));
  return page;
}

const shadeBox = (page: Page) => page.getByRole("checkbox", { name: "Shade by" });
const shadeChoice = (page: Page) => page.getByLabel("Shade the thinking by");

describe("shading by token entropy", () => {
  for (const scheme of ["light", "dark"] as const) {
    it(`on the bundled model shades where it weighs a carry, and charts an entropy line (${scheme})`, async () => {
      const page = await newPage(scheme);
      await openPage(page, server!.url);
      await page.getByRole("button", { name: "Run", exact: true }).click();
      await waitForRunState(page, FINISHED);
      // Off by default: nothing shaded until asked.
      expect(await page.locator(".trace-thinking .hot").count()).toBe(0);
      await shadeChoice(page).selectOption("entropy");
      await shadeBox(page).check();

      const shaded = page.locator(".trace-thinking[data-shade=entropy] .hot");
      const texts = await shaded.allTextContents();
      expect(texts.length).toBeGreaterThanOrEqual(4);
      // The quick pass writes "1+7=8 2+9=1 ...": the digit after each "=" is
      // where the model decides whether to carry, and the unsure part.
      const thinking = (await page.locator(".trace-thinking").textContent()) ?? "";
      const quickPass = thinking.split("\n")[0]!;
      const sums = [...quickPass.matchAll(/=(\d)/g)].length;
      expect(sums).toBeGreaterThanOrEqual(3);
      const shadedDigits = texts.filter((text) => /^\d+$/.test(text)).length;
      expect(shadedDigits).toBeGreaterThanOrEqual(sums);
      // Not everything: the words it always writes the same way stay plain.
      const shadedChars = texts.join("").length;
      expect(shadedChars).toBeLessThan(thinking.length / 4);

      const chart = page.locator(".chart-box");
      await expect
        .poll(() => chart.locator('path.recharts-line-curve[stroke="var(--entropy-line)"]').count())
        .toBe(1);
      expect(await chart.locator("text", { hasText: "entropy (bits)" }).count()).toBe(1);
      expect(await chart.locator(".legend .l-entropy").textContent()).toContain("token entropy");

      // Stop pressure is the other choice, on the same run: its own spans (this model seldom leans towards closing).
      await shadeChoice(page).selectOption("pressure");
      await page.locator(".trace-thinking[data-shade=pressure]").waitFor();
      expect(await page.locator(".trace-thinking[data-shade=entropy]").count()).toBe(0);
      await shadeChoice(page).selectOption("entropy");
      await screenshot(page, `entropy-shading-${scheme}`);
      expect(pageErrors).toEqual([]);
    });
  }

  it("is disabled, saying why, on a backend that cannot report entropy", async () => {
    const page = await newPage("light");
    await openPage(page, server!.url);
    await page.getByLabel("Backend", { exact: true }).selectOption("plain");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await waitForRunState(page, FINISHED);
    await shadeChoice(page).selectOption("entropy");

    await expect.poll(() => shadeBox(page).isDisabled()).toBe(true);
    expect(await shadeBox(page).isChecked()).toBe(false);
    expect(await page.locator(".shading-reason").textContent()).toMatch(
      /backend cannot report how unsure the model was/,
    );
    expect(await shadeChoice(page).locator("option:checked").textContent()).toContain(
      "not for this run",
    );
    expect(await page.locator(".trace-thinking .hot").count()).toBe(0);
    await screenshot(page, "entropy-unavailable-light");
    expect(pageErrors).toEqual([]);
  });
});
