/**
 * One problem with a reference answer, as every loader and the generator
 * produce it. `answer` is always a string (an AIME integer, a MATH-500 LaTeX
 * expression, a GSM8K final number) so the grader treats all sets alike;
 * `meta` keeps the row's other fields (solution, subject, level, url, ...)
 * for the page and for exports.
 */
export interface Problem {
  id: string;
  problem: string;
  answer: string;
  meta: Record<string, unknown>;
}
