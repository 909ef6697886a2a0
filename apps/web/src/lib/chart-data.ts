import { meanEntropy, type TokenPoint, type TraceState } from "./trace-fold.ts";

/** One row the chart draws; `t` in seconds. */
export interface ChartRow {
  t: number;
  thinking: number;
  answer: number | null;
  endP: number | null;
  /** Mean entropy (bits) of the point's tokens; null where none reported one. */
  entropy: number | null;
  injection: TokenPoint["injection"] | null;
}

/** More points than this add nothing a screen can show, and cost render time. */
export const MAX_CHART_POINTS = 600;
/**
 * While a run streams the chart redraws five times a second, and recharts'
 * cost grows with the points: a live curve keeps fewer (still about 3 px
 * apart on a laptop), the finished one gets them all.
 */
export const LIVE_CHART_POINTS = 200;

/**
 * Fewer points for drawing: equal buckets, each represented by its last
 * point (the curves are cumulative, so the shape is kept) carrying the
 * bucket's highest stop pressure (so a spike is never averaged away) and
 * the mean entropy of its tokens (a level, not a spike: the shading shows
 * each token's).
 * Points an injection made are always kept: they are the corners of a step.
 */
export function downsamplePoints(
  points: readonly TokenPoint[],
  max = MAX_CHART_POINTS,
): TokenPoint[] {
  if (points.length <= max) return points.slice();
  const size = Math.ceil(points.length / max);
  const out: TokenPoint[] = [points[0]!];
  for (let from = 1; from < points.length; from += size) {
    const to = Math.min(from + size, points.length);
    let endP: number | undefined;
    for (let i = from; i < to; i += 1) {
      const point = points[i]!;
      if (point.endP !== undefined)
        endP = endP === undefined ? point.endP : Math.max(endP, point.endP);
      if (point.injection && i !== to - 1) out.push(point);
    }
    const last = points[to - 1]!;
    if (last.injection) {
      out.push(last);
      continue;
    }
    const entropy = meanEntropy(points.slice(from, to));
    out.push(
      endP === undefined && !entropy
        ? last
        : { ...last, ...(endP === undefined ? {} : { endP }), ...entropy },
    );
  }
  return out;
}

export function chartRows(points: readonly TokenPoint[], max = MAX_CHART_POINTS): ChartRow[] {
  const rows: ChartRow[] = [
    { t: 0, thinking: 0, answer: null, endP: null, entropy: null, injection: null },
  ];
  for (const point of downsamplePoints(points, max)) {
    rows.push({
      t: point.time / 1000,
      thinking: point.thinking,
      answer: point.answer,
      endP: point.endP ?? null,
      entropy: point.entropy ?? null,
      injection: point.injection ?? null,
    });
  }
  return rows;
}

/**
 * Generated tokens per second: over the last `windowMs` while the run
 * streams (so the number follows the model's current pace), the engine's own
 * figure once it has finished.
 */
export function tokensPerSecond(trace: TraceState, windowMs = 2000): number | null {
  if (trace.finish) return trace.finish.stats.tokensPerSecond;
  const points = trace.points;
  const last = points.at(-1);
  if (!last || trace.firstTokenMs === null) return null;
  let from: TokenPoint | undefined;
  for (let i = points.length - 1; i >= 0; i -= 1) {
    const point = points[i]!;
    from = point;
    if (last.time - point.time >= windowMs) break;
  }
  if (!from || from === last) return null;
  const seconds = (last.time - from.time) / 1000;
  return seconds > 0 ? (last.generated - from.generated) / seconds : null;
}

/** Round tops for the token axis: 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten. */
const NICE_STEPS = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10];

/**
 * The top of a live chart's token axis: a round number a quarter above the
 * data, so the axis grows in small steps as the run goes (never a jump from
 * the data's height to the budget); once the data comes within reach of the
 * budget (the round top would pass it), the budget itself, and its line shows.
 */
export function tokenAxisTop(maxTokens: number, budget?: number): number {
  const wanted = Math.max(8, maxTokens * 1.25);
  const power = 10 ** Math.floor(Math.log10(wanted));
  const top = NICE_STEPS.map((step) => step * power).find((value) => value >= wanted)!;
  return budget !== undefined && top >= budget ? Math.max(budget, maxTokens) : top;
}
