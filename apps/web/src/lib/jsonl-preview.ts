/**
 * A first look at an uploaded JSONL dataset, in the browser, before it is
 * sent: how many rows, which keys they have, and whether the server will
 * recognise the shape by itself (AIME and MATH-500: `problem` + `answer`;
 * GSM8K: `question` + `answer`) or needs a column mapping. The server parses
 * and grades; this only lets the form count items and ask the right question.
 */
export interface JsonlPreview {
  /** Rows that parsed as JSON objects. */
  rows: number;
  /** Keys of the first row, in file order. */
  keys: string[];
  /** The recognised shape, or null when the columns must be mapped. */
  shape: "problem-answer" | "question-answer" | null;
  /** The first problem found, for a glance at what will be asked. */
  sample: string | null;
  /** Why the file cannot be used (not JSON, no rows); null when it can. */
  error: string | null;
}

export interface ColumnChoice {
  problem: string;
  answer: string;
  id: string;
}

const MAX_SAMPLE_CHARS = 200;

function detectShape(keys: readonly string[]): JsonlPreview["shape"] {
  if (!keys.includes("answer")) return null;
  if (keys.includes("problem")) return "problem-answer";
  if (keys.includes("question")) return "question-answer";
  return null;
}

export function previewJsonl(text: string): JsonlPreview {
  let rows = 0;
  let keys: string[] = [];
  let first: Record<string, unknown> | null = null;
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index]!.trim();
    if (line === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return {
        rows,
        keys,
        shape: null,
        sample: null,
        error: `Line ${index + 1} is not JSON: a JSONL file has one JSON object per line.`,
      };
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      return {
        rows,
        keys,
        shape: null,
        sample: null,
        error: `Line ${index + 1} is not a JSON object.`,
      };
    }
    if (first === null) {
      first = value as Record<string, unknown>;
      keys = Object.keys(first);
    }
    rows += 1;
  }
  if (rows === 0 || first === null) {
    return { rows: 0, keys: [], shape: null, sample: null, error: "The file has no rows." };
  }
  const shape = detectShape(keys);
  const problemKey = shape === "question-answer" ? "question" : "problem";
  const sample = typeof first[problemKey] === "string" ? (first[problemKey] as string) : null;
  return {
    rows,
    keys,
    shape,
    sample: sample === null ? null : sample.slice(0, MAX_SAMPLE_CHARS),
    error: null,
  };
}

/**
 * What is wrong with a column mapping for this file, or null. An empty
 * mapping is fine when the shape is recognised.
 */
export function columnProblem(preview: JsonlPreview, columns: ColumnChoice): string | null {
  const problem = columns.problem.trim();
  const answer = columns.answer.trim();
  const id = columns.id.trim();
  if (problem === "" && answer === "" && id === "") {
    return preview.shape === null
      ? `The rows have no problem/question and answer keys (they have ${preview.keys.join(", ") || "none"}): map the columns.`
      : null;
  }
  if (problem === "" || answer === "") return "Map both the problem and the answer column.";
  const missing = [problem, answer, ...(id === "" ? [] : [id])].filter(
    (key) => !preview.keys.includes(key),
  );
  if (missing.length > 0) {
    return `The first row has no ${missing.map((k) => `"${k}"`).join(", ")} (it has ${preview.keys.join(", ")}).`;
  }
  return null;
}
