#!/usr/bin/env node
// Save an experiment's figure exactly as the page exports it (its PNG button),
// for the images in docs/models.md. Needs a running server (`npm start`) that
// holds the experiment, and Debian's Chromium (`apt-get install -y chromium`).
//
//   node tools/tiny-reasoner/chart-images.mjs URL EXPERIMENT_ID FIGURE OUT.png
//
// FIGURE is the figure's test id: chart-scaling (the s1 figure),
// chart-sequential-parallel or chart-pass-at-k. The export is the page's own:
// the chart's SVG made standalone (title, legend, resolved colours), drawn
// into a PNG by the browser.
import { readFileSync, writeFileSync } from "node:fs";
import { chromium } from "playwright-core";

const [url, experimentId, figure, out] = process.argv.slice(2);
if (!url || !experimentId || !figure || !out) {
  console.error("usage: chart-images.mjs URL EXPERIMENT_ID FIGURE OUT.png");
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.THINKSCOPE_CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true });
  // Generous timeouts: an experiment of a thousand runs takes a while to load on a busy machine.
  page.setDefaultTimeout(180_000);
  await page.goto(`${url.replace(/\/$/, "")}/#/experiments/${experimentId}`);
  const box = page.getByTestId(figure);
  // The chart is drawn once its lines (or points) are in the SVG.
  await box.locator("svg.recharts-surface .recharts-line, svg.recharts-surface .recharts-scatter").first().waitFor({ state: "attached" });
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    box.getByRole("button", { name: /^PNG/ }).click(),
  ]);
  const path = await download.path();
  writeFileSync(out, readFileSync(path));
  console.log(`wrote ${out} (${download.suggestedFilename()})`);
} finally {
  await browser.close();
}
