/**
 * The page as a teacher meets it: the real server on a fresh data directory
 * with its shipped defaults (the embedded backend on the bundled tiny
 * reasoner), driven in Chromium. A first run with the defaults, slow motion
 * that holds at each Wait, the presenter layout on a 1080p projector, every
 * view on a phone, the library without experiment runs, and screenshots of
 * every view at 1440x900 and 390x844 in both themes (artifacts/e2e/views-*).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium, screenshot } from "./support/browser.ts";
import { FINISHED, openPage, waitForRunState } from "./support/page-actions.ts";
import { startServerProcess, type ServerProcess } from "./support/server-process.ts";
import { ensureWebBuild } from "./support/web-build.ts";

let server: ServerProcess | undefined;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  ensureWebBuild();
  [server, browser] = await Promise.all([
    startServerProcess({ name: "classroom", backends: [] }),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function newPage(
  viewport: { width: number; height: number },
  colorScheme: "light" | "dark" = "light",
): Promise<Page> {
  const context = await browser!.newContext({ viewport, colorScheme });
  contexts.push(context);
  const page = await context.newPage();
  page.on("pageerror", (error) => pageErrors.push(error.message));
  return page;
}

async function closePages(): Promise<void> {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
}

/** The last thing drawn in the thinking, ignoring the blinking cursor. */
function lastThinkingElement(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const children = [...document.querySelectorAll(".trace-thinking > :not(.cursor)")];
    const last = children.at(-1);
    if (!last) return null;
    return last.getAttribute("data-injection") ?? last.getAttribute("data-segment");
  });
}

const thinkingText = (page: Page) =>
  page.evaluate(() => document.querySelector(".trace-thinking")?.textContent ?? "");

/** Starts an experiment of the bundled model's preset on a few problems, through the API, and waits for its end. */
async function runSmallExperiment(): Promise<string> {
  const response = await fetch(`${server!.url}/api/experiments`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "Tiny sums", preset: "tiny-reasoner", limit: 3 }),
  });
  expect(response.status, await response.clone().text()).toBeLessThan(300);
  const { id } = (await response.json()) as { id: string };
  for (let i = 0; i < 600; i++) {
    const detail = (await (await fetch(`${server!.url}/api/experiments/${id}`)).json()) as {
      status: string;
    };
    if (detail.status !== "running") {
      expect(detail.status).toBe("completed");
      return id;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("The experiment did not finish within 2 minutes.");
}

describe("classroom", () => {
  it("a fresh page on the bundled model: Run with the defaults gives the right answer, drawn by KaTeX, with a right badge", async () => {
    const page = await newPage({ width: 1440, height: 900 });
    await openPage(page, server!.url);
    // The model's note is at the top of the panel, in the first screenful.
    const note = page.getByTestId("tiny-reasoner-note");
    await note.waitFor();
    expect((await note.boundingBox())!.y).toBeLessThan(900);
    await expect
      .poll(() => page.getByLabel("Question", { exact: true }).inputValue())
      .toMatch(/^What is \d+ \+ \d+\?$/);

    await page.getByRole("button", { name: "Run", exact: true }).click();
    await waitForRunState(page, FINISHED);
    const answer = page.locator("[data-segment=answer]");
    await answer.locator(".katex").first().waitFor();
    // Outside KaTeX's output (which keeps the TeX source for screen readers) no raw LaTeX is left.
    const outsideMath = await answer.evaluate((element) => {
      const copy = element.cloneNode(true) as HTMLElement;
      copy.querySelectorAll(".katex").forEach((math) => math.remove());
      return copy.textContent ?? "";
    });
    expect(outsideMath).not.toContain("\\boxed");
    const drawn = await answer.locator(".katex-html").first().textContent();
    expect(drawn?.replace(/\u200b/g, "")).toMatch(/^\d+$/);
    await expect.poll(() => page.getByTestId("verdict").textContent()).toBe("✓ right");
    // The story: at least one forced Wait before the right answer.
    expect(await page.locator("[data-injection=wait]").count()).toBeGreaterThanOrEqual(1);
    await screenshot(page, "classroom-first-run");
    expect(pageErrors).toEqual([]);
    await closePages();
  });

  it("at 0.25x with pause at each Wait the view holds with the Wait chip last, and Space resumes it", async () => {
    const page = await newPage({ width: 1440, height: 900 });
    await openPage(page, server!.url);
    await expect
      .poll(() => page.getByLabel("Question", { exact: true }).inputValue())
      .toMatch(/^What is/);
    const bar = page.getByRole("group", { name: "Playback" });
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await bar.waitFor();
    await waitForRunState(page, FINISHED);
    await bar.getByLabel("Speed").selectOption("0.25");
    await bar.getByLabel("Pause at each Wait or forced close").check();
    const waits = await page.locator("[data-injection=wait]").count();
    expect(waits).toBeGreaterThanOrEqual(1);

    // Run again: the run streams into the buffer while the view plays at a quarter of its pace.
    await page.getByRole("button", { name: /^Run/ }).click();
    const status = bar.locator(".playback-status");
    for (let wait = 1; wait <= waits; wait++) {
      await expect.poll(() => status.textContent(), { timeout: 20_000 }).toMatch(/forced Wait/);
      expect(await lastThinkingElement(page)).toBe("wait");
      const held = await thinkingText(page);
      await page.waitForTimeout(800);
      expect(await thinkingText(page), "the view stays still while held").toBe(held);
      expect(await page.locator("[data-injection=wait]").count()).toBe(wait);
      if (wait === 1) await screenshot(page, "classroom-held-at-wait");
      // Focus is still on the Run button: Space resumes, it does not start another run.
      await page.keyboard.press(" ");
      await expect.poll(async () => (await thinkingText(page)).length).toBeGreaterThan(held.length);
    }
    await expect
      .poll(() => page.getByTestId("verdict").textContent(), { timeout: 30_000 })
      .toBe("✓ right");
    expect(await page.locator("[data-injection=wait]").count()).toBe(waits);
    expect(pageErrors).toEqual([]);
    await closePages();
  });

  it("in presenter mode on a 1920x1080 projector the trace's first line is in the first screenful, in large type", async () => {
    const page = await newPage({ width: 1920, height: 1080 }, "dark");
    await openPage(page, server!.url);
    await page.getByRole("button", { name: "Projector mode" }).click();
    await expect
      .poll(() => page.getByLabel("Question", { exact: true }).inputValue())
      .toMatch(/^What is/);
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await waitForRunState(page, FINISHED);
    await page.evaluate(() => window.scrollTo(0, 0));
    const first = page.locator(".trace-thinking [data-segment=thinking]").first();
    const box = (await first.boundingBox())!;
    expect(box.y).toBeGreaterThan(0);
    expect(box.y + 20).toBeLessThan(1080);
    // Not scrolled out of its own box either: the trace's first line is what is drawn there.
    const atFirstLine = await page.evaluate(
      ({ x, y }) => document.elementFromPoint(x, y)?.closest("[data-segment]")?.textContent ?? "",
      { x: box.x + 5, y: box.y + 5 },
    );
    expect(atFirstLine).toBe(await first.textContent());
    const size = await first.evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    expect(size).toBeGreaterThanOrEqual(24);
    // The settings wait in a drawer.
    await page.getByRole("button", { name: "Settings…" }).click();
    await page.getByRole("form", { name: "Run settings" }).waitFor();
    await page.getByRole("button", { name: "Done" }).click();
    await screenshot(page, "classroom-presenter-1080p");
    expect(pageErrors).toEqual([]);
    await closePages();
  });

  it("the library hides experiment runs unless asked, and shows each run's answer and verdict", async () => {
    const experimentId = await runSmallExperiment();
    const page = await newPage({ width: 1440, height: 900 });
    await page.goto(`${server!.url}/#/library`);
    const rows = page.locator(".run-table tbody tr");
    await rows.first().waitFor();
    const total = await rows.count();
    expect(total).toBeGreaterThan(0);
    expect(await page.locator(".run-table .source-tag", { hasText: "experiment" }).count()).toBe(0);
    expect(await rows.getByTestId("verdict").first().textContent()).toBe("✓ right");

    await page.getByLabel("Source").selectOption("experiment");
    await page.getByLabel("Experiment", { exact: true }).selectOption(experimentId);
    await expect
      .poll(() => page.locator(".run-table .source-tag", { hasText: "experiment" }).count())
      .toBeGreaterThan(0);
    expect(await page.locator(".run-table .source-tag", { hasText: "page" }).count()).toBe(0);
    expect(pageErrors).toEqual([]);
    await closePages();
  });

  it("the lesson runs each step on the bundled model: a quick wrong sum, two Waits to the right one, a forced close, then an experiment", async () => {
    const page = await newPage({ width: 1440, height: 900 });
    await openPage(page, server!.url);
    await page
      .getByRole("navigation", { name: "Views" })
      .getByRole("link", { name: "Lesson" })
      .click();
    const runStep = async () => {
      await page.getByRole("button", { name: "Run it" }).click();
      await expect.poll(() => page.evaluate(() => window.location.hash)).toBe("#/");
      await waitForRunState(page, FINISHED);
    };
    const marks = (kind: string) =>
      page.locator(`.trace-thinking [data-injection=${kind}]`).count();

    // 1. Let it think: the model closes by itself after its quick pass, and is wrong.
    await page.getByRole("heading", { name: "Let it think" }).waitFor();
    await runStep();
    expect(await page.getByLabel("Question", { exact: true }).inputValue()).toBe(
      "What is 3891 + 1464?",
    );
    expect(await marks("end")).toBe(1);
    expect(await marks("wait")).toBe(0);
    await expect.poll(() => page.getByTestId("verdict").textContent()).toMatch(/^✗ wrong/);

    // 2. Make it wait: two Waits, then the right sum.
    await page.evaluate(() => (window.location.hash = "#/lesson/1"));
    await page.getByRole("link", { name: "Next" }).click();
    await page.getByRole("heading", { name: "Make it wait" }).waitFor();
    await runStep();
    expect(await marks("wait")).toBe(2);
    await expect.poll(() => page.getByTestId("verdict").textContent()).toBe("✓ right");

    // 3. Cut it short: the close is forced.
    await page.evaluate(() => (window.location.hash = "#/lesson/3"));
    await page.getByRole("heading", { name: "Cut it short" }).waitFor();
    await runStep();
    expect(await marks("forced_end")).toBe(1);

    // 4. The curve: the step starts the s1-curve preset and opens it.
    await page.evaluate(() => (window.location.hash = "#/lesson/4"));
    await page.getByRole("heading", { name: "The curve" }).waitFor();
    await page.getByRole("button", { name: "Start the experiment" }).click();
    await expect
      .poll(() => page.evaluate(() => window.location.hash))
      .toMatch(/^#\/experiments\/exp_[0-9a-f]+$/);
    const id = decodeURIComponent((await page.evaluate(() => window.location.hash)).split("/")[2]!);
    const detail = (await (await fetch(`${server!.url}/api/experiments/${id}`)).json()) as {
      preset: string | null;
    };
    expect(detail.preset).toBe("s1-curve");
    // Not run to the end here (two minutes): cancelled.
    await fetch(`${server!.url}/api/experiments/${id}/cancel`, { method: "POST" });
    await screenshot(page, "lesson-experiment-started");
    expect(pageErrors).toEqual([]);
    await closePages();
  });

  it("at 390x844 no view scrolls sideways", async () => {
    const page = await newPage({ width: 390, height: 844 });
    await openPage(page, server!.url);
    const overflow = () =>
      page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
      }));
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await waitForRunState(page, FINISHED);
    // Run scrolled the trace into view.
    await expect
      .poll(async () => (await page.locator(".trace-thinking").boundingBox())!.y)
      .toBeLessThan(844);
    for (const hash of ["#/", "#/compare", "#/library", "#/experiments", "#/lesson/1"]) {
      await page.evaluate((h) => (window.location.hash = h), hash);
      await page.waitForTimeout(600);
      const { scrollWidth, innerWidth } = await overflow();
      expect(scrollWidth, `${hash} is ${scrollWidth} px wide`).toBeLessThanOrEqual(innerWidth);
    }
    expect(pageErrors).toEqual([]);
    await closePages();
  });

  it("takes screenshots of every view at 1440x900 and 390x844, light and dark", async () => {
    const experiments = (await (await fetch(`${server!.url}/api/experiments`)).json()) as {
      experiments: { id: string }[];
    };
    const experimentId = experiments.experiments[0]?.id;
    const runs = (await (await fetch(`${server!.url}/api/runs?limit=1&source=page`)).json()) as {
      runs: { id: string }[];
    };
    const views: [string, string][] = [
      ["playground", "#/"],
      ["compare", "#/compare"],
      ["library", "#/library"],
      ["replay", `#/library/${runs.runs[0]?.id ?? ""}`],
      ["experiments", "#/experiments"],
      ["lesson", "#/lesson/2"],
      ...(experimentId
        ? [["experiment", `#/experiments/${experimentId}`] as [string, string]]
        : []),
    ];
    for (const [size, viewport] of [
      ["1440", { width: 1440, height: 900 }],
      ["390", { width: 390, height: 844 }],
    ] as const) {
      for (const scheme of ["light", "dark"] as const) {
        const page = await newPage(viewport, scheme);
        await openPage(page, server!.url);
        await page.getByRole("button", { name: "Run", exact: true }).click();
        await waitForRunState(page, FINISHED);
        for (const [name, hash] of views) {
          if (name === "compare") {
            await page.evaluate((h) => (window.location.hash = h), hash);
            await page.getByRole("button", { name: /^Run \d+ runs?$/ }).click();
            await page.waitForTimeout(3000);
          } else {
            await page.evaluate((h) => (window.location.hash = h), hash);
            await page.waitForTimeout(1200);
          }
          await screenshot(page, `views-${name}-${size}-${scheme}`);
        }
        await closePages();
      }
    }
    expect(pageErrors).toEqual([]);
  });
});
