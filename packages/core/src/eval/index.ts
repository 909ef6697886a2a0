/**
 * Evaluation: loading and generating problem sets, extracting and grading
 * answers, and the statistics experiments report (pass@k, majority vote, the
 * s1 paper's Control / Scaling / Performance). Pure functions, no I/O.
 */
export type { Problem } from "./problem.ts";
export {
  parseDataset,
  DatasetError,
  type ColumnMapping,
  type DatasetIssue,
  type DatasetShape,
  type ParsedDataset,
} from "./dataset-parser.ts";
export {
  generateProblems,
  GENERATED_KINDS,
  type GeneratedKind,
  type GeneratorOptions,
} from "./problem-generator.ts";
export { SeededRandom } from "./seeded-random.ts";
export { extractAnswer, type ExtractedAnswer, type ExtractionRule } from "./answer-extraction.ts";
export { normalizeAnswer } from "./answer-normalization.ts";
export { parseNumber, type ParsedNumber } from "./answer-number.ts";
export {
  compareNormalized,
  DECIMAL_TOLERANCE,
  type ComparisonMethod,
} from "./answer-comparison.ts";
export { grade, answersEquivalent, answerKey, type GradeResult } from "./grading.ts";
export { passAtK, passAtKCurve } from "./pass-at-k.ts";
export { majorityVote, type MajorityVote } from "./majority-vote.ts";
export {
  s1Metrics,
  type S1Metrics,
  type S1MetricsOptions,
  type ScalingPoint,
} from "./s1-metrics.ts";
export { summarizeSetting, type SampleResult, type SettingSummary } from "./setting-summary.ts";
export { confidenceVote, type ConfidentSample } from "./confidence-vote.ts";
