import { canonicalKey, compareNormalized, type ComparisonMethod } from "./answer-comparison.ts";
import { extractAnswer, type ExtractionRule } from "./answer-extraction.ts";
import { normalizeAnswer } from "./answer-normalization.ts";

/** What the grader compared and how, so the page can show why an answer counted or not. */
export interface GradeResult {
  correct: boolean;
  /** The answer found in the output, as written; null when none was found. */
  extracted: string | null;
  /** The rule that found it; null when none did. */
  extractionRule: ExtractionRule | null;
  normalizedExtracted: string | null;
  normalizedReference: string;
  /** How the two were compared; `no_answer` when nothing was extracted. */
  method: ComparisonMethod | "no_answer";
}

/**
 * Grades a model's output against a reference answer: extracts the final
 * answer (`extractAnswer`), normalises both sides (`normalizeAnswer`) and
 * compares them (`compareNormalized`). The reference may be written in any
 * form the output may (`\boxed{}`, `$...$`, units, ...).
 */
export function grade(output: string, reference: string): GradeResult {
  const normalizedReference = normalizeAnswer(reference);
  const found = extractAnswer(output);
  if (!found) {
    return {
      correct: false,
      extracted: null,
      extractionRule: null,
      normalizedExtracted: null,
      normalizedReference,
      method: "no_answer",
    };
  }
  const normalizedExtracted = normalizeAnswer(found.answer);
  const { equal, method } = compareNormalized(normalizedExtracted, normalizedReference);
  return {
    correct: equal,
    extracted: found.answer,
    extractionRule: found.rule,
    normalizedExtracted,
    normalizedReference,
    method,
  };
}

/** Whether two answers (already extracted, as written) are the same answer. */
export function answersEquivalent(a: string, b: string): boolean {
  return compareNormalized(normalizeAnswer(a), normalizeAnswer(b)).equal;
}

/** The key under which a majority vote counts an answer (see `canonicalKey`). */
export function answerKey(answer: string): string {
  return canonicalKey(normalizeAnswer(answer));
}
