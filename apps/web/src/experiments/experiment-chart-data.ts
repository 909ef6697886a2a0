/**
 * From an experiment's results (computed by the server) to the rows the
 * charts draw. Pure, so each chart's data is tested without drawing it.
 * Accuracies become percentages here: the charts and the paper speak in points.
 */
import type {
  ExperimentResults,
  ExperimentSetting,
  ProblemRow,
  S1MetricsResult,
} from "@thinkscope/protocol";

/**
 * A setting in few words for legends and point labels: `2 waits · cap 512`,
 * `"Hmm"`; `base` when it varies nothing. Falls back to the server's label
 * for fields without a short form.
 */
export function shortLabel(setting: Pick<ExperimentSetting, "varied" | "label" | "model">): string {
  const parts: string[] = setting.model !== undefined ? [setting.model] : [];
  for (const [key, value] of Object.entries(setting.varied)) {
    switch (key) {
      case "num_waits":
        parts.push(`${value} wait${value === 1 ? "" : "s"}`);
        break;
      case "max_thinking_tokens":
        parts.push(`cap ${value}`);
        break;
      case "min_thinking_tokens":
        parts.push(`min ${value}`);
        break;
      case "wait_string":
        parts.push(Array.isArray(value) ? value.map((v) => `"${v}"`).join("/") : `"${value}"`);
        break;
      default:
        return setting.label;
    }
  }
  return parts.length === 0 ? "base" : parts.join(" · ");
}

export interface ScalingPoint {
  setting: number;
  label: string;
  /** Mean thinking tokens per sample. */
  tokens: number;
  /** Accuracy over all samples, in percent. */
  accuracy: number;
  samples: number;
  /** What this setting varies (the sweep's fields and values). */
  varied: Record<string, unknown>;
}

const pct = (fraction: number) => fraction * 100;

/** The short label of the setting with this index (the server's label if it is unknown). */
function labelAt(results: ExperimentResults, setting: number, fallback: string): string {
  const found = results.settings.find((s, i) => (s.setting.index ?? i) === setting);
  return found ? shortLabel(found.setting) : fallback;
}

/** One point per setting that has graded samples: the s1 figure (accuracy against thinking tokens). */
export function scalingPoints(results: ExperimentResults): ScalingPoint[] {
  const points: ScalingPoint[] = [];
  results.settings.forEach((result, index) => {
    if (result.accuracy === null || result.mean_thinking_tokens === null) return;
    points.push({
      setting: result.setting.index ?? index,
      label: shortLabel(result.setting),
      tokens: result.mean_thinking_tokens,
      accuracy: pct(result.accuracy),
      samples: result.samples,
      varied: { ...result.setting.varied },
    });
  });
  return points;
}

/** The fields a line can run along, in the order lines are preferred. */
const LINE_FIELDS = ["num_waits", "max_thinking_tokens", "min_thinking_tokens"] as const;
const FIELD_WORD: Record<(typeof LINE_FIELDS)[number], [string, (v: unknown) => string]> = {
  num_waits: ["waits", (v) => String(v)],
  max_thinking_tokens: ["cap", (v) => String(v)],
  min_thinking_tokens: ["min", (v) => String(v)],
};

/** One sweep drawn as a line: settings that differ in one field only, ordered by that field. */
export interface SweepLine {
  key: string;
  /** The field the line runs along. */
  field: (typeof LINE_FIELDS)[number];
  /** `waits 0→6 at cap 768`. */
  label: string;
  points: ScalingPoint[];
}

/**
 * The experiment's sweeps as lines: for each field, the settings that agree
 * on everything else form one line along it (waits at one cap, caps at one
 * number of waits, each method...). A setting may sit on two lines where
 * two sweeps cross; a setting on no line is drawn as a lone point.
 */
export function sweepLines(points: readonly ScalingPoint[]): SweepLine[] {
  const lines: SweepLine[] = [];
  for (const field of LINE_FIELDS) {
    const groups = new Map<string, ScalingPoint[]>();
    for (const point of points) {
      if (!(field in point.varied)) continue;
      const { [field]: _along, ...rest } = point.varied;
      const key = JSON.stringify(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)));
      groups.set(key, [...(groups.get(key) ?? []), point]);
    }
    for (const [key, group] of groups) {
      if (group.length < 2) continue;
      const sorted = [...group].sort((a, b) => Number(a.varied[field]) - Number(b.varied[field]));
      const [word, value] = FIELD_WORD[field];
      const first = value(sorted[0]!.varied[field]);
      const last = value(sorted.at(-1)!.varied[field]);
      const rest = shortLabel({
        varied: Object.fromEntries(
          JSON.parse(key) as [string, unknown][],
        ) as ExperimentSetting["varied"],
        label: "",
      });
      lines.push({
        key: `${field}:${key}`,
        field,
        label: `${word} ${first}→${last}${rest && rest !== "base" ? ` at ${rest}` : ""}`,
        points: sorted,
      });
    }
  }
  return lines;
}

/** Points on no line. */
export function lonePoints(points: readonly ScalingPoint[], lines: readonly SweepLine[]) {
  const onLine = new Set(lines.flatMap((line) => line.points.map((p) => p.setting)));
  return points.filter((p) => !onLine.has(p.setting));
}

/**
 * The s1 paper plots thinking tokens on a log2 axis. Only possible when every
 * x is above 0; a linear axis is used otherwise (a setting that never thought).
 */
export function logAxisFits(tokens: readonly number[]): boolean {
  return tokens.length > 0 && tokens.every((t) => t > 0);
}

/** Powers of two covering [min, max] (at least two ticks), for a log2 axis. */
export function log2Ticks(min: number, max: number): number[] {
  if (!(min > 0) || !(max > 0)) return [];
  let low = 2 ** Math.floor(Math.log2(min));
  let high = 2 ** Math.ceil(Math.log2(max));
  if (low === high) {
    low /= 2;
    high *= 2;
  }
  const ticks: number[] = [];
  for (let t = low; t <= high; t *= 2) ticks.push(t);
  // Too many ticks crowd the axis: keep every other (or every fourth) power.
  const step = Math.ceil(ticks.length / 8);
  return ticks.filter((_, i) => i % step === 0 || i === ticks.length - 1);
}

export interface SeqParallelPoint {
  /** Thinking tokens spent per problem: one sample's for budget forcing, n samples' for the vote. */
  tokens: number;
  accuracy: number;
  label: string;
}

export interface SeqParallelSeries {
  /** Budget forcing: one sample per setting, ordered by cost. */
  sequential: SeqParallelPoint[];
  /** Majority vote over n = 1..samples of one setting. */
  parallel: SeqParallelPoint[];
  /** The setting whose samples vote; null when no setting has results. */
  parallelSetting: number | null;
  /** Settings that can vote (with results), for the chooser. */
  choices: { setting: number; label: string }[];
  /** The sweep the budget-forcing line follows (`waits 0→6 at cap 768`); null: every setting. */
  sequentialLabel: string | null;
}

/**
 * Sequential against parallel scaling at equal token cost (s1, Fig. 4):
 * every setting as one budget-forcing point, against majority vote over n
 * samples of one setting (the cheapest by default, as the paper's base
 * model without forcing).
 */
export function sequentialParallelSeries(
  results: ExperimentResults,
  parallelSetting?: number | null,
): SeqParallelSeries {
  const svp = results.sequential_vs_parallel;
  // One sweep, not every setting sorted by cost: mixing waits and caps makes the line zigzag.
  const lines = sweepLines(scalingPoints(results));
  const line = [...lines].sort((a, b) => b.points.length - a.points.length)[0];
  const onLine = line ? new Set(line.points.map((p) => p.setting)) : null;
  const sequential = svp.sequential
    .filter((p) => onLine === null || onLine.has(p.setting))
    .map((p) => ({
      tokens: p.tokens,
      accuracy: pct(p.accuracy),
      label: labelAt(results, p.setting, p.label),
    }))
    .sort((a, b) => a.tokens - b.tokens);
  const choices = svp.parallel
    .filter((p) => p.points.length > 0)
    .map((p) => ({ setting: p.setting, label: labelAt(results, p.setting, p.label) }));
  let chosen = svp.parallel.find((p) => p.setting === parallelSetting && p.points.length > 0);
  if (!chosen) {
    const cheapest = [...svp.sequential]
      .filter((p) => onLine === null || onLine.has(p.setting))
      .sort((a, b) => a.tokens - b.tokens)[0];
    chosen =
      svp.parallel.find((p) => p.setting === cheapest?.setting && p.points.length > 0) ??
      svp.parallel.find((p) => p.points.length > 0);
  }
  return {
    sequential,
    parallel: (chosen?.points ?? []).map((p) => ({
      tokens: p.tokens,
      accuracy: pct(p.accuracy),
      label: `majority of ${p.n}`,
    })),
    parallelSetting: chosen?.setting ?? null,
    choices,
    sequentialLabel: line?.label ?? null,
  };
}

/** One row per k: `{ k, s0: pass@k of setting 0 in percent, s1: ... }`. */
export type PassAtKRow = { k: number } & Record<string, number>;

export function passAtKKey(setting: number): string {
  return `s${setting}`;
}

/** pass@k curves for k = 1..n, one line per setting (the server's unbiased estimates). */
export function passAtKRows(results: ExperimentResults): PassAtKRow[] {
  const maxK = Math.max(0, ...results.settings.map((s) => s.pass_at_k.length));
  const rows: PassAtKRow[] = [];
  for (let k = 1; k <= maxK; k += 1) {
    const row: PassAtKRow = { k } as PassAtKRow;
    results.settings.forEach((s, index) => {
      const value = s.pass_at_k[k - 1];
      if (value !== undefined) row[passAtKKey(s.setting.index ?? index)] = pct(value);
    });
    rows.push(row);
  }
  return rows;
}

/** Settings that have a pass@k curve, for the legend. */
export function passAtKSeries(results: ExperimentResults): { setting: number; label: string }[] {
  return results.settings
    .map((s, index) => ({
      setting: s.setting.index ?? index,
      label: shortLabel(s.setting),
      n: s.pass_at_k.length,
    }))
    .filter((s) => s.n > 0)
    .map(({ setting, label }) => ({ setting, label }));
}

export interface PassAtKCrossover {
  /** The first k at which the curve that was lower at pass@1 is strictly higher. */
  k: number;
  /** The setting behind at pass@1 that overtakes, and the one it overtakes. */
  overtaker: { setting: number; label: string };
  overtaken: { setting: number; label: string };
}

/**
 * Where two pass@k curves cross (Yue et al.'s finding: the sharpened model
 * leads at pass@1, the base model leads at large k). Only for exactly two
 * curves that differ at pass@1; null when they never change places.
 */
export function passAtKCrossover(
  rows: readonly PassAtKRow[],
  series: readonly { setting: number; label: string }[],
): PassAtKCrossover | null {
  if (series.length !== 2 || rows.length === 0) return null;
  const [a, b] = series as [{ setting: number; label: string }, { setting: number; label: string }];
  const at = (row: PassAtKRow, s: { setting: number }) => row[passAtKKey(s.setting)];
  const firstA = at(rows[0]!, a);
  const firstB = at(rows[0]!, b);
  if (firstA === undefined || firstB === undefined || firstA === firstB) return null;
  const [leader, behind] = firstA > firstB ? [a, b] : [b, a];
  for (const row of rows) {
    const lead = at(row, leader);
    const chase = at(row, behind);
    if (lead !== undefined && chase !== undefined && chase > lead) {
      return { k: row.k, overtaker: behind, overtaken: leader };
    }
  }
  return null;
}

export interface MetricView {
  name: "Control" | "Scaling" | "Performance";
  value: string;
  definition: string;
  /** Why a surprising value is what it is (a negative or missing slope), when it needs saying. */
  caveat?: string;
}

const signed = (value: number) => `${value > 0 ? "+" : ""}${value.toFixed(1)}`;

/** The s1 paper's three metrics (section 3.2) as shown beside the figure, with their definitions. */
export function metricsView(
  metrics: S1MetricsResult,
  /** The fewest graded samples any setting has: how much one answer moves an accuracy. */
  fewestSamples: number | null = null,
): MetricView[] {
  const onePoint = fewestSamples && fewestSamples > 0 ? 100 / fewestSamples : null;
  const noise =
    onePoint === null
      ? ""
      : ` With ${fewestSamples} graded samples per setting, one answer moves an accuracy by ${onePoint.toFixed(1)} points, so small differences are noise.`;
  let scalingCaveat: string | undefined;
  if (metrics.scaling === null) {
    scalingCaveat =
      "Needs at least two settings with graded samples that spent different numbers of thinking tokens.";
  } else if (metrics.scaling < 0) {
    scalingCaveat =
      "Negative: here accuracy fell, on average, as thinking grew (for instance a setting that forces more Waits than the model can use, or a cap that cuts the check short)." +
      noise +
      " A step, right below one length and wrong above it, also reads as a steep slope.";
  }
  return [
    {
      name: "Control",
      value: metrics.control === null ? "–" : `${pct(metrics.control).toFixed(0)}%`,
      definition: "Share of runs whose thinking stayed within their budget (min to max).",
    },
    {
      name: "Scaling",
      value: metrics.scaling === null ? "–" : signed(metrics.scaling),
      definition:
        "Mean slope of accuracy over all pairs of settings, in accuracy points per doubling of thinking tokens.",
      ...(scalingCaveat ? { caveat: scalingCaveat } : {}),
    },
    {
      name: "Performance",
      value: metrics.performance === null ? "–" : `${pct(metrics.performance).toFixed(1)}%`,
      definition: "Best accuracy of any setting.",
    },
  ];
}

export type ProblemFilter = "all" | "differs" | "unsolved" | "solved";

/**
 * Rows of the per-problem table under a filter: `differs` keeps problems
 * some settings got right more often than others (where the settings
 * matter), `unsolved` those no sample got right, `solved` those every
 * graded sample got right.
 */
export function filterProblems(rows: readonly ProblemRow[], filter: ProblemFilter): ProblemRow[] {
  const graded = (row: ProblemRow) => row.settings.filter((c) => c.samples > 0);
  switch (filter) {
    case "all":
      return [...rows];
    case "unsolved":
      return rows.filter(
        (row) => graded(row).length > 0 && graded(row).every((c) => c.correct === 0),
      );
    case "solved":
      return rows.filter(
        (row) => graded(row).length > 0 && graded(row).every((c) => c.correct === c.samples),
      );
    case "differs":
      return rows.filter((row) => {
        const rates = graded(row).map((c) => c.correct / c.samples);
        return rates.length > 1 && Math.max(...rates) > Math.min(...rates);
      });
  }
}
