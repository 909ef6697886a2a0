/**
 * The page under a long, fast stream ("stream 20,000 thinking tokens
 * at 1,000 tokens/s into the page; report the longest main-thread task and
 * the frame rate while streaming, whether the page stays interactive, and
 * memory after the run").
 *
 * The whole real path: a paced stand-in for vLLM (exactly 1,000 tokens/s,
 * one token per SSE event, as vLLM streams) -> the real Thinkscope server
 * (vLLM adapter, engine, WebSocket batching) -> the built page in Debian's
 * Chromium. In the page, an init script records long tasks
 * (PerformanceObserver 'longtask'), long animation frames, every
 * requestAnimationFrame, and input-to-next-frame latency; Node types into the
 * prompt and clicks the trace once a second while the run streams. Memory
 * comes from CDP `Performance.getMetrics` after the run, before and after a
 * forced garbage collection.
 *
 * The confidence shading is on (the saved display preference), by token
 * entropy (THINKSCOPE_BENCH_SHADE_BY=pressure: by stop pressure), and the
 * stand-in reports the top candidates of every thinking token, from which
 * the vLLM adapter reads the stop probability and estimates the entropy, so
 * the page shades as it streams: the figures include that work.
 *
 * Figures only, no asserts: this machine's 2 cores are shared with the
 * server, the stand-in and other work, so long tasks come and go with the
 * machine's load. The main thread's busy time over the run (Chromium's own
 * task, script, layout and style totals) moves less; and
 * BENCH_PAGE_CPU_SLOWDOWN=4 runs the page on a CPU four times slower
 * (DevTools' throttling), a classroom laptop rather than a workstation.
 */
import { writeFileSync } from "node:fs";
import type { CDPSession, Page } from "playwright-core";
import { launchChromium } from "../apps/web/e2e/support/browser.ts";
import { startPacedUpstream } from "../apps/web/e2e/support/paced-vllm-upstream.ts";
import { startServerProcess } from "../apps/web/e2e/support/server-process.ts";
import { ensureWebBuild } from "../apps/web/e2e/support/web-build.ts";

const TOKENS = 20_000;
const TOKENS_PER_SECOND = 1_000;
const PROBE_EVERY_MS = 1_000;
const LONG_TASK_TARGET_MS = 50;
/** "Respond to input within 100 ms" (RAIL); INP calls up to 200 ms good. */
const INPUT_TARGET_MS = 100;
const PROMPT =
  "<|im_start|>user\nHow many r's are in raspberry?<|im_end|>\n<|im_start|>assistant\n<think>\n";

/** What the init script gathers in the page (times are performance.now() ms). */
interface PageRecord {
  longTasks: [start: number, duration: number][];
  /** Long animation frames: where the time went (style and layout, scripts by invoker). */
  longFrames: [
    start: number,
    duration: number,
    blocking: number,
    styleAndLayout: number,
    scripts: string,
  ][];
  frames: number[];
  /** Event Timing entries of interactions that took 16 ms or more. */
  events: [start: number, duration: number, name: string][];
  /** Input event to the task after the next frame, per probe. */
  inputs: [start: number, latency: number, type: string][];
  firstTokenAt: number | null;
  endedAt: number | null;
  endState: string | null;
}

/**
 * Runs in the page before its own scripts. Plain JavaScript in a string: it
 * executes in the browser, and the root tsconfig (Node) has no DOM types.
 */
const INIT_SCRIPT = `(() => {
  const b = { longTasks: [], longFrames: [], frames: [], events: [], inputs: [],
              firstTokenAt: null, endedAt: null, endState: null };
  window.__bench = b;
  const observe = (type, each, extra) => {
    try {
      new PerformanceObserver((list) => list.getEntries().forEach(each))
        .observe({ type, buffered: true, ...extra });
    } catch { /* entry type not supported by this browser */ }
  };
  observe("longtask", (e) => b.longTasks.push([e.startTime, e.duration]));
  observe("long-animation-frame", (e) => {
    const scripts = (e.scripts || []).map((x) => x.invoker + " " + Math.round(x.duration) + " ms");
    const render = e.styleAndLayoutStart ? e.startTime + e.duration - e.styleAndLayoutStart : 0;
    b.longFrames.push([e.startTime, e.duration, e.blockingDuration || 0, render, scripts.join("; ")]);
  });
  observe("event", (e) => { if (e.interactionId) b.events.push([e.startTime, e.duration, e.name]); },
          { durationThreshold: 16 });
  const frame = (t) => { b.frames.push(t); requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
  for (const type of ["keydown", "pointerdown"]) {
    addEventListener(type, (e) => {
      const at = e.timeStamp;
      requestAnimationFrame(() => setTimeout(() => b.inputs.push([at, performance.now() - at, type]), 0));
    }, true);
  }
  const watch = () => {
    const tokens = document.querySelector("[data-testid=thinking-tokens]")?.textContent ?? "";
    if (b.firstTokenAt === null && /[1-9]/.test(tokens)) b.firstTokenAt = performance.now();
    const state = document.querySelector(".run-status .state")?.textContent ?? "";
    if (b.firstTokenAt !== null && b.endedAt === null && /^(Finished|Stopped|Error|Interrupted)/.test(state)) {
      b.endedAt = performance.now();
      b.endState = state;
    }
  };
  addEventListener("DOMContentLoaded", () =>
    new MutationObserver(watch).observe(document.body, { subtree: true, childList: true, characterData: true }));
})();`;

async function metrics(cdp: CDPSession): Promise<Record<string, number>> {
  const { metrics: list } = await cdp.send("Performance.getMetrics");
  return Object.fromEntries(list.map((m) => [m.name, m.value]));
}

const record = (page: Page) => page.evaluate("window.__bench") as Promise<PageRecord>;
const mb = (bytes: number | undefined) => `${((bytes ?? 0) / 1024 / 1024).toFixed(1)} MB`;
const ms = (value: number) => `${Math.round(value)} ms`;
const verdict = (ok: boolean) => (ok ? "meets the target" : "MISSES the target");

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Types into the prompt and clicks the trace, alternately, until the run ends. */
async function probeWhileStreaming(page: Page): Promise<number> {
  let probes = 0;
  for (;;) {
    // Only the one field: serializing the whole record each second would add work to what is measured.
    if ((await page.evaluate("window.__bench.endedAt")) !== null) return probes;
    if (probes % 2 === 0) {
      await page.getByLabel("Raw prompt").focus();
      await page.keyboard.type("x");
    } else {
      const heading = await page.locator(".trace-heading").first().boundingBox();
      if (heading) await page.mouse.click(heading.x + 5, heading.y + 5);
    }
    probes += 1;
    await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
  }
}

export async function run(): Promise<void> {
  ensureWebBuild();
  const upstream = await startPacedUpstream({
    tokensPerSecond: TOKENS_PER_SECOND,
    thinkingTokens: TOKENS,
  });
  let server: Awaited<ReturnType<typeof startServerProcess>> | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  try {
    server = await startServerProcess({ name: "bench-page", backends: [`vllm:${upstream.url}`] });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.addInitScript({ content: INIT_SCRIPT });
    // Shading on, as a teacher would have it (THINKSCOPE_BENCH_SHADING=0: off, to compare).
    const shading = process.env.THINKSCOPE_BENCH_SHADING !== "0";
    const shadeBy = process.env.THINKSCOPE_BENCH_SHADE_BY === "pressure" ? "pressure" : "entropy";
    await page.addInitScript({
      content: `localStorage.setItem("thinkscope.display", JSON.stringify(${JSON.stringify({ shading, shadeBy })}));`,
    });
    const cdp = await context.newCDPSession(page);
    await cdp.send("Performance.enable");
    const slowdown = Number(process.env.BENCH_PAGE_CPU_SLOWDOWN ?? "1");
    if (slowdown > 1) await cdp.send("Emulation.setCPUThrottlingRate", { rate: slowdown });

    const query = new URLSearchParams({
      mode: "raw",
      prompt: PROMPT,
      max_thinking_tokens: String(TOKENS + 4_096),
      max_answer_tokens: "64",
    });
    await page.goto(`${server.url}/?${query}`);
    await page.locator(".status-pill[data-state=open]").waitFor({ timeout: 15_000 });
    await page.getByLabel("Backend", { exact: true }).waitFor({ timeout: 15_000 });
    // Let the lazily loaded chart code arrive before measuring (it preloads when idle).
    await page.waitForLoadState("networkidle");
    await cdp.send("HeapProfiler.collectGarbage");
    const before = await metrics(cdp);

    // BENCH_PAGE_PROFILE=FILE.cpuprofile: the page's JavaScript profile while streaming, for DevTools.
    const profileTo = process.env.BENCH_PAGE_PROFILE;
    if (profileTo) {
      await cdp.send("Profiler.enable");
      await cdp.send("Profiler.start");
    }
    // BENCH_PAGE_TRACE=FILE.json: a Chrome trace (tasks, layouts, JavaScript samples) for DevTools' Performance panel.
    const traceTo = process.env.BENCH_PAGE_TRACE;
    if (traceTo) await browser.startTracing(page, { path: traceTo });
    const startedAt = Date.now();
    await page.getByRole("button", { name: "Run", exact: true }).click();
    // Polled from here: a string predicate in waitForFunction is an eval the page's CSP refuses.
    const waitUntil = Date.now() + 30_000;
    while ((await page.evaluate("window.__bench.firstTokenAt")) === null) {
      if (Date.now() > waitUntil) throw new Error("No token reached the page within 30 s.");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const probes = await probeWhileStreaming(page);
    const wallSeconds = (Date.now() - startedAt) / 1000;
    if (profileTo) {
      const { profile } = await cdp.send("Profiler.stop");
      writeFileSync(profileTo, JSON.stringify(profile));
      console.log(`  the page's profile while streaming: ${profileTo}`);
    }
    if (traceTo) {
      await browser.stopTracing();
      console.log(`  the page's trace while streaming: ${traceTo}`);
    }

    const after = await metrics(cdp);
    await cdp.send("HeapProfiler.collectGarbage");
    const afterGc = await metrics(cdp);
    const shownTokens = await page.getByTestId("thinking-tokens").textContent();
    const shownRate = await page.getByTestId("tokens-per-second").textContent();
    const shadedSpans = await page.locator(".trace-thinking .hot").count();
    const r = await record(page);

    const from = r.firstTokenAt!;
    const to = r.endedAt!;
    const inWindow = (t: number) => t >= from && t <= to;
    const seconds = (to - from) / 1000;
    const taskEntries = r.longTasks.filter(([t]) => inWindow(t));
    const tasks = taskEntries.map(([, d]) => d);
    // Where in the stream each long task fell, to tell start-up (chart mount) from steady state.
    const taskTimes = taskEntries
      .map(([t, d]) => `${ms(d)} at ${((t - from) / 1000).toFixed(1)} s`)
      .join(", ");
    const allTasks = r.longTasks.map(([, d]) => d);
    const longFrames = r.longFrames.filter(([t]) => inWindow(t));
    const frames = r.frames.filter(inWindow);
    const gaps = frames.slice(1).map((t, i) => t - frames[i]!);
    const inputs = r.inputs.filter(([t]) => inWindow(t)).map(([, latency]) => latency);
    const slowEvents = r.events.filter(([t]) => inWindow(t));
    const longestTask = Math.max(0, ...tasks);
    const worstInput = Math.max(0, ...inputs, ...slowEvents.map(([, d]) => d));

    console.log(
      `stream: ${TOKENS.toLocaleString("en")} thinking tokens at ${TOKENS_PER_SECOND.toLocaleString("en")}/s ` +
        `from a paced vLLM stand-in through the real server; ${upstream.completions} upstream requests`,
    );
    console.log(
      `  page ended with "${r.endState}", showing ${shownTokens} thinking tokens at ${shownRate} tokens/s; ` +
        `streaming lasted ${seconds.toFixed(1)} s on screen (${wallSeconds.toFixed(1)} s from the click); ` +
        `shading ${shading ? `by ${shadeBy}` : "off"}: ${shadedSpans} shaded stretches in the thinking`,
    );
    console.log(
      `longest main-thread task while streaming: ${tasks.length ? ms(longestTask) : "none over 50 ms"} ` +
        `(${tasks.length} long tasks${taskTimes ? `: ${taskTimes}` : ""}; ${ms(tasks.reduce((s, d) => s + d - 50, 0))} total blocking) ` +
        `target: none over ${LONG_TASK_TARGET_MS} ms -> ${verdict(longestTask <= LONG_TASK_TARGET_MS)}`,
    );
    const worstFrame = [...longFrames].sort((a, b) => b[1] - a[1])[0];
    console.log(
      `  long animation frames while streaming: ${longFrames.length}` +
        (worstFrame
          ? `; the longest, ${ms(worstFrame[1])} at ${((worstFrame[0] - from) / 1000).toFixed(1)} s: ` +
            `style and layout ${ms(worstFrame[3])}, scripts ${worstFrame[4] || "none attributed"}`
          : "") +
        `; longest task over the whole page life: ${allTasks.length ? ms(Math.max(...allTasks)) : "none over 50 ms"}`,
    );
    console.log(
      `frame rate while streaming: ${(frames.length / seconds).toFixed(1)} fps ` +
        `(median frame ${ms(percentile(gaps, 50))}, p99 ${ms(percentile(gaps, 99))}, longest gap ${ms(Math.max(0, ...gaps))}, ` +
        `${gaps.filter((g) => g > 50).length} gaps over 50 ms)`,
    );
    console.log(
      `interactive while streaming: ${inputs.length} inputs (${probes} probes, alternately typing in the prompt and clicking the trace): ` +
        `input to next frame median ${ms(percentile(inputs, 50))}, worst ${ms(Math.max(0, ...inputs))}; ` +
        `Event Timing's longest interaction ${slowEvents.length ? ms(Math.max(...slowEvents.map(([, d]) => d))) : "under 16 ms"} ` +
        `target: under ${INPUT_TARGET_MS} ms -> ${verdict(inputs.length > 0 && worstInput < INPUT_TARGET_MS)}`,
    );
    const busy = (name: string) => ms(((after[name] ?? 0) - (before[name] ?? 0)) * 1000);
    console.log(
      `main thread busy over the run${slowdown > 1 ? ` (CPU ${slowdown}x slower)` : ""}: ` +
        `tasks ${busy("TaskDuration")} in ${wallSeconds.toFixed(1)} s (script ${busy("ScriptDuration")}, ` +
        `layout ${busy("LayoutDuration")}, style ${busy("RecalcStyleDuration")})`,
    );
    console.log(
      `memory after the run: JS heap ${mb(after.JSHeapUsedSize)} used (${mb(afterGc.JSHeapUsedSize)} after GC; ` +
        `${mb(before.JSHeapUsedSize)} before the run, so ` +
        `${Math.round(((afterGc.JSHeapUsedSize ?? 0) - (before.JSHeapUsedSize ?? 0)) / TOKENS)} bytes per token kept), ` +
        `${after.Nodes} DOM nodes, ${after.LayoutCount} layouts, ${after.RecalcStyleCount} style recalcs in the page's life`,
    );
    await context.close();
  } finally {
    await browser?.close();
    await server?.stop();
    await upstream.close();
  }
}
