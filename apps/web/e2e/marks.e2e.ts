/**
 * Injection chips in the text and their markers on the chart, linked both
 * ways, on a trace long enough to scroll: 3,000 thinking tokens from the
 * paced vLLM stand-in (vLLM's real wire format; no GPU here) through the
 * real server into the built page in Chromium.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { launchChromium, screenshot } from "./support/browser.ts";
import { startPacedUpstream, type PacedUpstream } from "./support/paced-vllm-upstream.ts";
import { FINISHED, openPage, waitForRunState } from "./support/page-actions.ts";
import { startServerProcess, type ServerProcess } from "./support/server-process.ts";
import { ensureWebBuild } from "./support/web-build.ts";

const PROMPT =
  "<|im_start|>user\nHow many r's are in raspberry?<|im_end|>\n<|im_start|>assistant\n<think>\n";

let upstream: PacedUpstream | undefined;
let server: ServerProcess | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  ensureWebBuild();
  upstream = await startPacedUpstream({ tokensPerSecond: 2_000, thinkingTokens: 3_000 });
  [server, browser] = await Promise.all([
    startServerProcess({ name: "marks", backends: [`vllm:${upstream.url}`] }),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await upstream?.close();
});

describe("marks and chart (paced vLLM stand-in)", () => {
  it("pointing at a marker on the chart lights its chip and scrolls the trace to it", async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await openPage(page, server!.url, {
      query: { mode: "raw", prompt: PROMPT, max_thinking_tokens: "5000", max_answer_tokens: "32" },
    });
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await waitForRunState(page, FINISHED);

    // The reader goes back to the top of the trace: the model's close, at its end, is out of view.
    const trace = page.locator(".trace-scroll");
    const chip = page.locator("[data-injection=end]");
    const chipInView = async () => {
      const [box, view] = await Promise.all([chip.boundingBox(), trace.boundingBox()]);
      return (
        box !== null &&
        view !== null &&
        box.y >= view.y &&
        box.y + box.height <= view.y + view.height
      );
    };
    await trace.hover();
    await page.mouse.wheel(0, -100_000);
    await expect.poll(() => trace.evaluate((element) => element.scrollTop)).toBe(0);
    expect(await chipInView()).toBe(false);
    expect(await chip.getAttribute("data-highlighted")).toBe(null);

    // Pointing at the close's marker lights it and the chip, and brings the chip into the trace's view.
    const marker = page.locator(".marker-hit[data-marker=end]");
    await marker.hover();
    await expect.poll(() => chip.getAttribute("data-highlighted")).toBe("true");
    await expect.poll(chipInView).toBe(true);
    expect(await page.locator(".recharts-reference-line line").getAttribute("stroke-width")).toBe(
      "5",
    );
    await screenshot(page, "marks-marker-reveals-chip");

    // Leaving puts both back; the trace stays where it was brought.
    await page.mouse.move(0, 0);
    await expect.poll(() => chip.getAttribute("data-highlighted")).toBe(null);
    expect(await page.locator(".recharts-reference-line line").getAttribute("stroke-width")).toBe(
      "2",
    );
    expect(await chipInView()).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });
});
