import { InvalidRequestError } from "../errors.ts";

/**
 * One evaluation run in the sense of the s1 paper (Muennighoff et al. 2025,
 * section 3.2): a setting evaluated on a benchmark, with the thinking tokens
 * it spent (the mean over its samples) and its accuracy.
 */
export interface ScalingPoint {
  /** Thinking tokens spent, e.g. the mean over the run's samples. */
  thinkingTokens: number;
  /** Accuracy from 0 to 1. */
  accuracy: number;
  /** The budget the run was asked to respect, if any (the paper's a_min / a_max). */
  minTokens?: number;
  maxTokens?: number;
}

export interface S1Metrics {
  /**
   * Control: the share (0 to 1) of runs whose thinking tokens lie within
   * their own [minTokens, maxTokens]. Only runs that state a budget count;
   * null when none does.
   */
  control: number | null;
  /**
   * Scaling: the mean slope of accuracy against thinking tokens over all
   * pairs of runs, in percentage points per doubling of thinking tokens
   * (axis `log2`, the default) or per token (axis `tokens`). Null for fewer
   * than two runs.
   */
  scaling: number | null;
  /** Performance: the best accuracy (0 to 1); null for no runs. */
  performance: number | null;
}

export interface S1MetricsOptions {
  /**
   * The x-axis the slopes are taken on. The paper plots thinking tokens on a
   * log2 axis, and its Table 3 values are slopes on that axis: the token-,
   * step- and class-conditional rows of Tables 11 to 13 give exactly the
   * reported -24, 13, 3, 6 and 25 with `log2`, but values near 0.005 per raw
   * token. `tokens` gives the literal per-token slope.
   */
  axis?: "log2" | "tokens";
}

/**
 * The s1 paper's three metrics over a set of runs A with accuracy f:
 * - Control = (1/|A|) sum_a 1[a_min <= a <= a_max] (here over the runs with a budget);
 * - Scaling = (1/C(|A|,2)) sum_{a,b in A, b > a} (f(b) - f(a)) / (b - a);
 *   a pair of runs with equal token counts adds nothing to the sum but still
 *   counts in C(|A|,2), as the formula is written;
 * - Performance = max_a f(a).
 */
export function s1Metrics(
  points: readonly ScalingPoint[],
  options: S1MetricsOptions = {},
): S1Metrics {
  const axis = options.axis ?? "log2";
  points.forEach((point, i) => checkPoint(point, i, axis));
  return {
    control: controlOf(points),
    scaling: scalingOf(points, axis),
    performance: performanceOf(points),
  };
}

function controlOf(points: readonly ScalingPoint[]): number | null {
  const budgeted = points.filter((p) => p.minTokens !== undefined || p.maxTokens !== undefined);
  if (budgeted.length === 0) return null;
  const within = budgeted.filter(
    (p) =>
      p.thinkingTokens >= (p.minTokens ?? -Infinity) &&
      p.thinkingTokens <= (p.maxTokens ?? Infinity),
  );
  return within.length / budgeted.length;
}

function scalingOf(points: readonly ScalingPoint[], axis: "log2" | "tokens"): number | null {
  if (points.length < 2) return null;
  const x = (p: ScalingPoint) => (axis === "log2" ? Math.log2(p.thinkingTokens) : p.thinkingTokens);
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      pairs++;
      const a = points[i] as ScalingPoint;
      const b = points[j] as ScalingPoint;
      const run = x(b) - x(a);
      // (f(b) - f(a)) / (b - a) is the same whichever of the two is larger.
      if (run !== 0) sum += (100 * (b.accuracy - a.accuracy)) / run;
    }
  }
  return sum / pairs;
}

function performanceOf(points: readonly ScalingPoint[]): number | null {
  return points.length === 0 ? null : Math.max(...points.map((p) => p.accuracy));
}

function checkPoint(point: ScalingPoint, index: number, axis: "log2" | "tokens"): void {
  const where = `s1 metrics, run ${index + 1}`;
  const minimum = axis === "log2" ? Number.MIN_VALUE : 0;
  if (!Number.isFinite(point.thinkingTokens) || point.thinkingTokens < minimum) {
    throw new InvalidRequestError(
      "invalid_metrics_input",
      `${where}: thinkingTokens must be a finite number ${axis === "log2" ? "above 0 (the log2 axis has no 0)" : "of 0 or more"} (got ${point.thinkingTokens}).`,
    );
  }
  if (!Number.isFinite(point.accuracy) || point.accuracy < 0 || point.accuracy > 1) {
    throw new InvalidRequestError(
      "invalid_metrics_input",
      `${where}: accuracy must be from 0 to 1 (got ${point.accuracy}).`,
    );
  }
}
