/**
 * Elimination: when the model tries to close, its answer is read by a probe
 * and, instead of closing, rejected in the thinking ("Wait, the answer is
 * not 5208."), so it must look for another. With the reference answer known
 * (experiments), a right answer is accepted at once: N eliminations are then
 * the sequential counterpart of pass@(N+1).
 */
import { grade } from "../eval/grading.ts";

export type EliminationVerdict = "accept" | "eliminate";

export function judgeAnswer(
  answer: string | null,
  verifier: "none" | "reference",
  reference: string | undefined,
): EliminationVerdict {
  // No answer to reject: let the model's close stand.
  if (answer === null) return "accept";
  if (verifier === "reference" && reference !== undefined) {
    return grade(`\\boxed{${answer}}`, reference).correct ? "accept" : "eliminate";
  }
  return "eliminate";
}

export function eliminationText(template: string, answer: string): string {
  return template.split("{answer}").join(answer);
}
