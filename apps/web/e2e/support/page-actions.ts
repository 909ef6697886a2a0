import type { Locator, Page } from "playwright-core";

/** The first run status line's text ("Thinking…", "Finished.", "Stopped. What was generated is kept."). */
export const runState = (page: Page): Locator => page.locator(".run-status .state").first();

export const FINISHED = "Finished.";
export const STOPPED = "Stopped. What was generated is kept.";

/**
 * Opens the page with settings in the query string (`{ num_waits: "2" }`) and
 * a route in the hash, and waits until the socket is open and the backends
 * are loaded, i.e. until a run can be sent.
 */
export async function openPage(
  page: Page,
  baseUrl: string,
  options: { query?: Record<string, string>; hash?: string } = {},
): Promise<void> {
  const query = new URLSearchParams(options.query ?? {}).toString();
  await page.goto(`${baseUrl}/${query ? `?${query}` : ""}${options.hash ?? ""}`);
  await page.locator(".status-pill[data-state=open]").waitFor({ timeout: 15_000 });
  // The backend picker lists the backends once /api/backends answered.
  await page.getByLabel("Backend", { exact: true }).waitFor({ timeout: 15_000 });
}

/** Waits until the (first) run status line reads `text`; on timeout says what it read instead. */
export async function waitForRunState(page: Page, text: string, timeout = 30_000): Promise<void> {
  try {
    await page
      .locator(".run-status .state", { hasText: new RegExp(`^${escape(text)}$`) })
      .first()
      .waitFor({ timeout });
  } catch (error) {
    const actual = await runState(page)
      .textContent()
      .catch(() => null);
    throw new Error(`The run did not reach "${text}" (it reads "${actual}").`, { cause: error });
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A whole number shown with thousands separators ("1,234") as a number; NaN for "—". */
export function parseCount(text: string | null): number {
  return Number((text ?? "").replace(/[^\d]/g, "") || Number.NaN);
}

/** What the page showed at one moment while a run streamed. */
export interface DomSnapshot {
  /** ms since recording started */
  t: number;
  waits: number;
  forcedEnds: number;
  ends: number;
  /** `[data-testid=thinking-tokens]` as shown. */
  thinkingTokens: string;
  /** `.recharts-reference-line` elements (injection markers and budget lines). */
  chartMarkers: number;
  /** The chart's drawn thinking line (`d` of its first curve), "" before it draws. */
  chartLine: string;
  state: string;
  answer: string;
}

/**
 * Records every distinct state of the run's marks, numbers and chart as the
 * DOM changes (a MutationObserver), so a test can tell what was on screen
 * while the run was still going, not only at the end.
 */
export async function startDomRecorder(page: Page): Promise<() => Promise<DomSnapshot[]>> {
  await page.evaluate(() => {
    const w = window as unknown as { __e2eSnapshots: unknown[]; __e2eObserver?: MutationObserver };
    w.__e2eObserver?.disconnect();
    const started = performance.now();
    const snapshots: Record<string, unknown>[] = [];
    const count = (selector: string) => document.querySelectorAll(selector).length;
    const text = (selector: string) => document.querySelector(selector)?.textContent ?? "";
    const snap = () => {
      const next = {
        waits: count("[data-injection=wait]"),
        forcedEnds: count("[data-injection=forced_end]"),
        ends: count("[data-injection=end]"),
        thinkingTokens: text("[data-testid=thinking-tokens]"),
        chartMarkers: count(".recharts-reference-line"),
        chartLine: document.querySelector(".recharts-line-curve")?.getAttribute("d") ?? "",
        state: text(".run-status .state"),
        answer: text("[data-segment=answer]"),
      };
      const last = snapshots.at(-1);
      const changed = !last || Object.entries(next).some(([key, value]) => last[key] !== value);
      if (changed) snapshots.push({ t: Math.round(performance.now() - started), ...next });
    };
    w.__e2eSnapshots = snapshots;
    w.__e2eObserver = new MutationObserver(snap);
    w.__e2eObserver.observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
      attributeFilter: ["d"],
    });
    snap();
  });
  return () =>
    page.evaluate(() => (window as unknown as { __e2eSnapshots: DomSnapshot[] }).__e2eSnapshots);
}
