import { majorityVote } from "./majority-vote.ts";
import { answerKey } from "./grading.ts";

export interface ConfidentSample {
  answer: string | null | undefined;
  /** The sample's lowest group log-probability (`lowestGroupLogprob`); null when unknown. */
  confidence: number | null;
}

/**
 * DeepConf's weighted vote: keep the most confident `keep` share of the
 * samples (at least one), then each answer's weight is the sum of exp(its
 * samples' confidence). Ties go to the answer whose first sample comes
 * earliest. A sample without a confidence weighs nothing; with none known
 * at all, this is the majority vote.
 */
export function confidenceVote(
  samples: readonly ConfidentSample[],
  keep = 1,
): { answer: string | null; index: number } {
  const known = samples
    .map((sample, index) => ({ ...sample, index }))
    .filter((s) => s.confidence !== null && s.answer && answerKey(s.answer) !== "");
  if (known.length === 0) {
    const vote = majorityVote(samples.map((s) => s.answer));
    return { answer: vote.answer, index: vote.index };
  }
  const kept = Math.max(1, Math.ceil(known.length * keep));
  const confident = [...known]
    .sort((a, b) => b.confidence! - a.confidence! || a.index - b.index)
    .slice(0, kept);
  const weights = new Map<string, { weight: number; first: number; answer: string }>();
  for (const sample of confident) {
    const key = answerKey(sample.answer!);
    const entry = weights.get(key) ?? { weight: 0, first: sample.index, answer: sample.answer! };
    entry.weight += Math.exp(sample.confidence!);
    entry.first = Math.min(entry.first, sample.index);
    if (entry.first === sample.index) entry.answer = sample.answer!;
    weights.set(key, entry);
  }
  let best: { weight: number; first: number; answer: string } | undefined;
  for (const entry of weights.values()) {
    if (
      !best ||
      entry.weight > best.weight ||
      (entry.weight === best.weight && entry.first < best.first)
    )
      best = entry;
  }
  return best ? { answer: best.answer, index: best.first } : { answer: null, index: -1 };
}
