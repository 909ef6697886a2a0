/**
 * An experiment's results from its graded items: per-setting summaries (the
 * JSON contract), the s1 paper's metrics, sequential against parallel
 * scaling at equal token cost, and the per-problem table. Pure: computed
 * from the stored items whenever asked, over the items done so far.
 */
import {
  confidenceVote,
  answerKey,
  majorityVote,
  s1Metrics,
  SeededRandom,
  summarizeSetting,
  type Problem,
} from "@thinkscope/core";
import type {
  ExperimentResults,
  ExperimentSpec,
  ProblemRow,
  S1MetricsResult,
  SequentialParallelResult,
  SettingResult,
} from "@thinkscope/protocol";
import type { ItemRecord } from "../../store/experiment-store.ts";

/** Above this many n-sample subsets of a problem's samples, a seeded random draw of this many is averaged. */
const MAX_SUBSETS = 256;

interface Graded {
  problem: number;
  sample: number;
  correct: boolean;
  extracted: string | null;
  thinkingTokens: number;
  answerTokens: number;
  waits: number;
  forcedEnd: boolean;
  withinBudget: boolean;
  runId: string | null;
  confidence: number | null;
}

export function computeResults(
  problems: readonly Problem[],
  spec: ExperimentSpec,
  items: readonly ItemRecord[],
): ExperimentResults {
  // Per setting, then per problem, the graded samples in sample order.
  const graded: Graded[][][] = spec.settings.map(() => problems.map(() => []));
  let complete = items.length > 0;
  for (const item of items) {
    if (item.status !== "done") {
      complete = false;
      continue;
    }
    graded[item.setting]?.[item.problem]?.push({
      problem: item.problem,
      sample: item.sample,
      correct: item.correct === true,
      extracted: item.extracted,
      thinkingTokens: item.thinkingTokens ?? 0,
      answerTokens: item.answerTokens ?? 0,
      waits: item.waits ?? 0,
      forcedEnd: item.forcedEnd === true,
      withinBudget: item.withinBudget === true,
      runId: item.runId,
      confidence: item.confidence,
    });
  }
  for (const byProblem of graded)
    for (const list of byProblem) list.sort((a, b) => a.sample - b.sample);

  const settings = spec.settings.map((setting, index) => {
    const result = settingResult(setting, graded[index] ?? [], problems);
    if (spec.vote)
      result.confidence_vote_accuracy = confidenceAccuracy(graded[index] ?? [], spec.vote.keep);
    return result;
  });
  return {
    complete,
    settings,
    s1_metrics: s1MetricsOf(settings, graded),
    sequential_vs_parallel: sequentialVsParallel(settings, graded),
    problems: problemRows(problems, spec, graded),
  };
}

/** Share of problems (with samples) whose confidence-weighted answer is correct. */
function confidenceAccuracy(byProblem: Graded[][], keep: number): number | null {
  const voted = byProblem.filter((list) => list.length > 0);
  if (voted.length === 0) return null;
  const right = voted.filter((list) => {
    const vote = confidenceVote(
      list.map((g) => ({ answer: g.extracted, confidence: g.confidence })),
      keep,
    );
    return vote.index >= 0 && list[vote.index]!.correct;
  }).length;
  return right / voted.length;
}

function settingResult(
  setting: ExperimentSpec["settings"][number],
  byProblem: Graded[][],
  problems: readonly Problem[],
): SettingResult {
  const all = byProblem.flat();
  if (all.length === 0) {
    return {
      setting,
      accuracy: null,
      mean_thinking_tokens: null,
      majority_vote_accuracy: null,
      pass_at_k: [],
      samples: 0,
      problems: 0,
      mean_answer_tokens: null,
      mean_waits: null,
      forced_end_rate: null,
      within_budget: null,
    };
  }
  const summary = summarizeSetting(
    all.map((g) => ({
      problemId: problems[g.problem]?.id ?? String(g.problem),
      correct: g.correct,
      thinkingTokens: g.thinkingTokens,
      extractedAnswer: g.extracted,
    })),
  );
  const mean = (value: (g: Graded) => number) =>
    all.reduce((sum, g) => sum + value(g), 0) / all.length;
  return {
    setting,
    ...summary,
    samples: all.length,
    problems: byProblem.filter((list) => list.length > 0).length,
    mean_answer_tokens: mean((g) => g.answerTokens),
    mean_waits: mean((g) => g.waits),
    forced_end_rate: mean((g) => (g.forcedEnd ? 1 : 0)),
    within_budget: mean((g) => (g.withinBudget ? 1 : 0)),
  };
}

/**
 * Scaling and Performance over the settings (one "evaluation run" each in
 * the paper's terms); Control over every sample, each against its own
 * setting's [min_thinking_tokens, max_thinking_tokens].
 */
function s1MetricsOf(settings: readonly SettingResult[], graded: Graded[][][]): S1MetricsResult {
  const points = settings.flatMap((s) =>
    s.accuracy === null || s.mean_thinking_tokens === null
      ? []
      : [{ thinkingTokens: s.mean_thinking_tokens, accuracy: s.accuracy }],
  );
  // The log2 axis has no 0: a setting that never thought is left out of the slope.
  const onLogAxis = points.filter((p) => p.thinkingTokens > 0);
  const runs = graded.flat(2);
  return {
    control: runs.length === 0 ? null : runs.filter((g) => g.withinBudget).length / runs.length,
    scaling: s1Metrics(onLogAxis, { axis: "log2" }).scaling,
    scaling_per_token: s1Metrics(points, { axis: "tokens" }).scaling,
    scaling_unit: "percentage points per doubling of thinking tokens",
    performance: s1Metrics(points).performance,
  };
}

function sequentialVsParallel(
  settings: readonly SettingResult[],
  graded: Graded[][][],
): SequentialParallelResult {
  const sequential: SequentialParallelResult["sequential"] = [];
  const parallel: SequentialParallelResult["parallel"] = [];
  settings.forEach((result, index) => {
    const { accuracy, mean_thinking_tokens: tokens } = result;
    if (accuracy === null || tokens === null) return;
    const { label } = result.setting;
    sequential.push({ setting: index, label, tokens, accuracy });
    const byProblem = (graded[index] ?? []).filter((list) => list.length > 0);
    const maxN = Math.min(...byProblem.map((list) => list.length));
    const sizes = voteSizes(maxN);
    const perProblem = byProblem.map((list, p) =>
      majorityAccuracies(list, sizes, index * 100_003 + p),
    );
    const points = sizes.map((n, i) => ({
      n,
      tokens: n * tokens,
      accuracy: perProblem.reduce((sum, curve) => sum + curve[i]!, 0) / perProblem.length,
    }));
    parallel.push({ setting: index, label, points });
  });
  return { sequential, parallel };
}

/** Every vote size up to 16, then the powers of two and maxN: a 64-sample curve's far end changes slowly. */
export function voteSizes(maxN: number): number[] {
  const sizes: number[] = [];
  for (let n = 1; n <= maxN; n = n < 16 ? n + 1 : n * 2) sizes.push(n);
  if (sizes.at(-1) !== maxN) sizes.push(maxN);
  return sizes;
}

/**
 * For each n of `sizes`, the chance that a majority vote over n of a problem's
 * samples is correct: the mean over every n-sample subset (or over a seeded
 * draw of them when there are too many). A tie goes to the answer of the
 * earliest sample, as `majorityVote` documents. Each answer is normalised
 * once, not once per subset: 64 samples make 64 x 256 subsets a problem.
 */
export function majorityAccuracies(
  samples: readonly Pick<Graded, "correct" | "extracted">[],
  sizes: readonly number[],
  seed: number,
): number[] {
  const labels = answerLabels(samples.map((s) => s.extracted));
  return sizes.map((n) => majorityAccuracy(samples, labels, n, seed));
}

function majorityAccuracy(
  samples: readonly Pick<Graded, "correct">[],
  labels: Int32Array,
  n: number,
  seed: number,
): number {
  const votes = new Int32Array(samples.length);
  const first = new Int32Array(samples.length);
  const touched = new Int32Array(n);
  let correct = 0;
  let subsets = 0;
  forEachSubset(samples.length, n, seed, (subset) => {
    subsets++;
    let distinct = 0;
    for (let k = 0; k < n; k++) {
      const i = subset[k]!;
      const label = labels[i]!;
      if (label < 0) continue;
      if (votes[label] === 0) {
        touched[distinct++] = label;
        first[label] = i;
      } else if (i < first[label]!) first[label] = i;
      votes[label]!++;
    }
    let winner = -1;
    for (let t = 0; t < distinct; t++) {
      const label = touched[t]!;
      if (
        winner < 0 ||
        votes[label]! > votes[winner]! ||
        (votes[label] === votes[winner] && first[label]! < first[winner]!)
      )
        winner = label;
    }
    if (winner >= 0 && samples[first[winner]!]!.correct) correct++;
    for (let t = 0; t < distinct; t++) votes[touched[t]!] = 0;
  });
  return correct / subsets;
}

/** Each answer as a small number, equal for answers `majorityVote` groups; -1 for no answer. */
function answerLabels(answers: readonly (string | null)[]): Int32Array {
  const byKey = new Map<string, number>();
  return Int32Array.from(answers, (answer) => {
    const key = answer === null ? "" : answerKey(answer);
    if (key === "") return -1;
    let label = byKey.get(key);
    if (label === undefined) byKey.set(key, (label = byKey.size));
    return label;
  });
}

/** Every n-subset of 0..m-1, or MAX_SUBSETS seeded random ones when there are more. */
function forEachSubset(
  m: number,
  n: number,
  seed: number,
  visit: (subset: ArrayLike<number>) => void,
): void {
  if (binomial(m, n) <= MAX_SUBSETS) {
    const chosen: number[] = [];
    const walk = (start: number) => {
      if (chosen.length === n) return visit(chosen);
      for (let i = start; i <= m - (n - chosen.length); i++) {
        chosen.push(i);
        walk(i + 1);
        chosen.pop();
      }
    };
    return walk(0);
  }
  const random = new SeededRandom(seed);
  // A partial Fisher-Yates shuffle: its first n entries are a uniform random n-subset.
  const indices = Int32Array.from({ length: m }, (_, i) => i);
  for (let draw = 0; draw < MAX_SUBSETS; draw++) {
    for (let i = 0; i < n; i++) {
      const j = random.int(i, m - 1);
      const swap = indices[i]!;
      indices[i] = indices[j]!;
      indices[j] = swap;
    }
    visit(indices);
  }
}

function binomial(m: number, n: number): number {
  let result = 1;
  for (let i = 1; i <= n; i++) {
    result = (result * (m - n + i)) / i;
    if (result > MAX_SUBSETS) return result;
  }
  return result;
}

function problemRows(
  problems: readonly Problem[],
  spec: ExperimentSpec,
  graded: Graded[][][],
): ProblemRow[] {
  return problems.map((problem, p) => ({
    problem_id: problem.id,
    problem: problem.problem,
    reference: problem.answer,
    settings: spec.settings.map((_, s) => {
      const list = graded[s]?.[p] ?? [];
      const answers: Array<string | null> = new Array<string | null>(spec.samples).fill(null);
      const runIds: Array<string | null> = new Array<string | null>(spec.samples).fill(null);
      for (const g of list) {
        answers[g.sample] = g.extracted;
        runIds[g.sample] = g.runId;
      }
      const vote = majorityVote(list.map((g) => g.extracted));
      return {
        correct: list.filter((g) => g.correct).length,
        samples: list.length,
        answers,
        run_ids: runIds,
        majority_answer: vote.answer,
        majority_correct: list.length === 0 ? null : vote.index >= 0 && list[vote.index]!.correct,
      };
    }),
  }));
}
