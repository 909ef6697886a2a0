import { lazy, Suspense, useDeferredValue } from "react";
import { preloadWhenIdle } from "../../lib/preload-when-idle.ts";
import { LIVE_CHART_POINTS, MAX_CHART_POINTS } from "../../lib/chart-data.ts";
import { useThrottledValue } from "../../lib/use-throttled-value.ts";
import type { TraceState } from "../../lib/trace-fold.ts";
import type { CompareSeries } from "./token-chart.tsx";

// recharts is the largest dependency; it loads after the page, not with it.
const loadCharts = () => import("./token-chart.tsx");
const TokenChart = lazy(() => loadCharts().then((m) => ({ default: m.TokenChart })));
const CompareChart = lazy(() => loadCharts().then((m) => ({ default: m.CompareChart })));

/**
 * Fetch and compile the chart code while the page is idle, so the first
 * run does not pay for it (about 100 ms of main thread) mid-stream; then,
 * idle again, draw one chart out of sight, so the first run's chart does
 * not mount on cold code either.
 */
export function preloadCharts(): void {
  preloadWhenIdle(() =>
    loadCharts().then(() =>
      preloadWhenIdle(() => import("./chart-warm-up.tsx").then((m) => m.warmUpCharts())),
    ),
  );
}

/**
 * The text updates with every batch (about 20 times a second); a chart redraw
 * costs more and shows nothing new at that pace, so live charts redraw at
 * most 5 times a second.
 */
export const CHART_INTERVAL_MS = 200;

const fallback = <div className="chart-box loading">Loading chart…</div>;

export function LiveTokenChart({
  trace,
  live,
  budget,
}: {
  trace: TraceState;
  live: boolean;
  budget?: number;
}) {
  const throttled = useThrottledValue(trace, live ? CHART_INTERVAL_MS : 0);
  // Drawn at a transition's priority, which React renders in slices it can
  // interrupt: a chart mount or redraw (tens of milliseconds of recharts)
  // never holds the main thread in one piece, and the trace's text goes first.
  const shown = useDeferredValue(throttled, null);
  if (shown === null) return fallback;
  return (
    <Suspense fallback={fallback}>
      <TokenChart
        trace={shown}
        maxPoints={live ? LIVE_CHART_POINTS : MAX_CHART_POINTS}
        {...(budget !== undefined ? { budget } : {})}
      />
    </Suspense>
  );
}

export function LiveCompareChart({ series, live }: { series: CompareSeries[]; live: boolean }) {
  const shown = useThrottledValue(series, live ? CHART_INTERVAL_MS : 0);
  return (
    <Suspense fallback={fallback}>
      <CompareChart series={shown} />
    </Suspense>
  );
}
