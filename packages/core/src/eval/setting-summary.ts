import { InvalidRequestError } from "../errors.ts";
import { majorityVote } from "./majority-vote.ts";
import { passAtK } from "./pass-at-k.ts";

/** One graded sample of one problem under one setting. */
export interface SampleResult {
  problemId: string;
  correct: boolean;
  thinkingTokens: number;
  /** The extracted answer as written; null when none was found. */
  extractedAnswer: string | null;
}

/**
 * One setting's results, in the shape of the experiment JSON contract
 * (`thinkscope experiment --json`, docs/experiments.md).
 */
export interface SettingSummary {
  /** Share of all samples that are correct (0 to 1). */
  accuracy: number;
  /** Mean thinking tokens over all samples. */
  mean_thinking_tokens: number;
  /** Share of problems whose majority-vote answer is correct. */
  majority_vote_accuracy: number;
  /**
   * pass@k averaged over problems, index 0 = pass@1. Its length is the
   * smallest number of samples any problem has, so every problem counts at
   * every k.
   */
  pass_at_k: number[];
}

/**
 * Summarises a setting from its per-problem samples. Problems may have
 * different numbers of samples. Samples of a problem are taken in the order
 * given, which decides majority-vote ties (see `majorityVote`): pass them in
 * sample order. The majority answer is correct when the sample that first
 * gave it was graded correct.
 */
export function summarizeSetting(samples: readonly SampleResult[]): SettingSummary {
  if (samples.length === 0) {
    throw new InvalidRequestError(
      "invalid_summary_input",
      "Cannot summarise a setting with no samples.",
    );
  }
  const byProblem = new Map<string, SampleResult[]>();
  for (const sample of samples) {
    if (!Number.isFinite(sample.thinkingTokens) || sample.thinkingTokens < 0) {
      throw new InvalidRequestError(
        "invalid_summary_input",
        `Problem ${sample.problemId}: thinkingTokens must be a finite number of 0 or more (got ${sample.thinkingTokens}).`,
      );
    }
    const group = byProblem.get(sample.problemId);
    if (group) group.push(sample);
    else byProblem.set(sample.problemId, [sample]);
  }

  const problems = [...byProblem.values()];
  const maxK = Math.min(...problems.map((group) => group.length));
  const passSums: number[] = new Array<number>(maxK).fill(0);
  let majorityCorrect = 0;
  for (const group of problems) {
    const correct = group.filter((s) => s.correct).length;
    for (let k = 1; k <= maxK; k++)
      passSums[k - 1] = (passSums[k - 1] ?? 0) + passAtK(group.length, correct, k);
    const vote = majorityVote(group.map((s) => s.extractedAnswer));
    if (vote.index >= 0 && group[vote.index]?.correct) majorityCorrect++;
  }

  return {
    accuracy: samples.filter((s) => s.correct).length / samples.length,
    mean_thinking_tokens: samples.reduce((sum, s) => sum + s.thinkingTokens, 0) / samples.length,
    majority_vote_accuracy: majorityCorrect / problems.length,
    pass_at_k: passSums.map((sum) => sum / problems.length),
  };
}
