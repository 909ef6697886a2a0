import { answerKey } from "./grading.ts";

export interface MajorityVote {
  /** The winning answer as first written; null when no sample had an answer. */
  answer: string | null;
  /** Index (in the input) of the winning answer's first occurrence; -1 when none. */
  index: number;
  /** How many samples gave the winning answer. */
  votes: number;
  /** How many samples had an answer at all. */
  counted: number;
}

/**
 * Majority vote (self-consistency) over sampled answers. Answers are grouped
 * by their normalised value (`answerKey`): `\frac12`, `1/2` and `0.5` are one
 * answer. Samples with no answer (null, undefined or empty) do not vote.
 *
 * Ties go to the answer whose first occurrence comes earliest in `answers`,
 * so the result depends only on the order the caller gives (e.g. sample
 * index), never on hashing or sorting.
 */
export function majorityVote(answers: readonly (string | null | undefined)[]): MajorityVote {
  const groups = new Map<string, { first: number; votes: number }>();
  let counted = 0;
  answers.forEach((answer, index) => {
    if (answer === null || answer === undefined) return;
    const key = answerKey(answer);
    if (key === "") return;
    counted++;
    const group = groups.get(key);
    if (group) group.votes++;
    else groups.set(key, { first: index, votes: 1 });
  });
  let best: { first: number; votes: number } | undefined;
  for (const group of groups.values()) {
    if (
      !best ||
      group.votes > best.votes ||
      (group.votes === best.votes && group.first < best.first)
    )
      best = group;
  }
  if (!best) return { answer: null, index: -1, votes: 0, counted };
  return { answer: answers[best.first] ?? null, index: best.first, votes: best.votes, counted };
}
