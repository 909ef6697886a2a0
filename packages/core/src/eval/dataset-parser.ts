import { InvalidRequestError } from "../errors.ts";
import type { Problem } from "./problem.ts";

/**
 * The row shapes the loader understands:
 * - `aime`: `problem` + an integer `answer` (number or digit string);
 * - `math`: `problem` + a LaTeX `answer` (MATH-500);
 * - `gsm8k`: `question` + an `answer` that ends in `#### N`;
 * - `question-answer`: `question` + a plain `answer`;
 * - `mapped`: columns named by the caller.
 */
export type DatasetShape = "aime" | "math" | "gsm8k" | "question-answer" | "mapped";

/** Which columns hold the problem, the answer and (optionally) the id, for other files. */
export interface ColumnMapping {
  problem: string;
  answer: string;
  id?: string;
}

export interface ParsedDataset {
  shape: DatasetShape;
  problems: Problem[];
}

export interface DatasetIssue {
  /** 1-based line number in the file. */
  line: number;
  message: string;
}

/** A file that cannot be loaded as a whole; `issues` lists every bad line. */
export class DatasetError extends InvalidRequestError {
  readonly issues: DatasetIssue[];

  constructor(issues: DatasetIssue[], summary?: string) {
    const shown = issues.slice(0, 10).map((issue) => `line ${issue.line}: ${issue.message}`);
    const more =
      issues.length > shown.length ? [`... and ${issues.length - shown.length} more`] : [];
    super("invalid_dataset", summary ?? ["The dataset has errors:", ...shown, ...more].join("\n"));
    this.name = "DatasetError";
    this.issues = issues;
  }
}

type Row = Record<string, unknown>;

/**
 * Parses JSONL text (one JSON object per line; blank lines are skipped) into
 * problems. Without `columns` the shape is told from the first row and every
 * row must fit it; with `columns` those columns are used. Ids come from the
 * `columns.id` column, else the `id` or `unique_id` field when the first row
 * has one (then every row needs it), else the line number; they must be
 * unique. Every field not used becomes `meta` (GSM8K's worked
 * solution goes to `meta.solution`).
 *
 * Never drops a row: any bad line makes the whole file fail with a
 * `DatasetError` naming each bad line and what is wrong with it.
 */
export function parseDataset(
  text: string,
  options: { columns?: ColumnMapping } = {},
): ParsedDataset {
  const rows: { line: number; row: Row }[] = [];
  const issues: DatasetIssue[] = [];
  text
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/)
    .forEach((content, index) => {
      const line = index + 1;
      if (content.trim() === "") return;
      let value: unknown;
      try {
        value = JSON.parse(content);
      } catch (error) {
        issues.push({ line, message: `not valid JSON (${(error as Error).message})` });
        return;
      }
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        issues.push({ line, message: "expected a JSON object with the problem's fields" });
        return;
      }
      rows.push({ line, row: value as Row });
    });

  const first = rows[0];
  if (!first) {
    if (issues.length > 0) throw new DatasetError(issues);
    throw new DatasetError([], "The dataset has no problems: expected one JSON object per line.");
  }
  const shape = options.columns ? "mapped" : detectShape(first.row, first.line);
  const columns = options.columns ?? columnsFor(shape);
  // Ids come from one column for the whole file, so a row without one cannot
  // take a line number that another row holds as its id.
  const idColumn = columns.id ?? ["id", "unique_id"].find((key) => key in first.row);

  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  for (const { line, row } of rows) {
    const rowIssues: string[] = [];
    const problem = readText(row, columns.problem, rowIssues);
    let answer = readAnswer(row, columns.answer, rowIssues);
    const meta: Record<string, unknown> = { ...row };
    delete meta[columns.problem];
    delete meta[columns.answer];
    if (shape === "gsm8k" && answer !== undefined) {
      const marker = answer.lastIndexOf("####");
      if (marker < 0) {
        rowIssues.push(
          "the `answer` has no `#### N` final answer (the file's first row has one, as GSM8K does)",
        );
      } else {
        const final = answer
          .slice(marker + 4)
          .trim()
          .replace(/,/g, "");
        if (final === "") rowIssues.push("nothing follows `####` in the `answer`");
        meta.solution = answer.slice(0, marker).trim();
        answer = final;
      }
    }
    const id = readId(row, idColumn, line, rowIssues);
    if (idColumn) delete meta[idColumn];
    if (id !== undefined) {
      const earlier = seen.get(id);
      if (earlier !== undefined)
        rowIssues.push(`id ${JSON.stringify(id)} repeats the id on line ${earlier}`);
      else seen.set(id, line);
    }
    if (rowIssues.length > 0) {
      issues.push(...rowIssues.map((message) => ({ line, message })));
    } else if (problem !== undefined && answer !== undefined && id !== undefined) {
      problems.push({ id, problem, answer, meta });
    }
  }
  if (issues.length > 0) throw new DatasetError(issues.sort((a, b) => a.line - b.line));

  const resolved: DatasetShape =
    shape === "math" && problems.every((p) => /^-?\d+$/.test(p.answer)) ? "aime" : shape;
  return { shape: resolved, problems };
}

function detectShape(row: Row, line: number): DatasetShape {
  if ("problem" in row && "answer" in row) return "math";
  if ("question" in row && "answer" in row) {
    return typeof row.answer === "string" && row.answer.includes("####")
      ? "gsm8k"
      : "question-answer";
  }
  const keys =
    Object.keys(row)
      .map((k) => `\`${k}\``)
      .join(", ") || "none";
  throw new DatasetError(
    [],
    `line ${line}: cannot tell the dataset's shape. Expected \`problem\` and \`answer\` (AIME, MATH-500) ` +
      `or \`question\` and \`answer\` (GSM8K); the row has ${keys}. ` +
      `For other files, give a column mapping: { problem: "column", answer: "column" }.`,
  );
}

function columnsFor(shape: DatasetShape): ColumnMapping {
  return shape === "gsm8k" || shape === "question-answer"
    ? { problem: "question", answer: "answer" }
    : { problem: "problem", answer: "answer" };
}

function readText(row: Row, column: string, issues: string[]): string | undefined {
  const value = row[column];
  if (value === undefined || value === null) {
    issues.push(`missing field \`${column}\``);
    return undefined;
  }
  if (typeof value !== "string" || value.trim() === "") {
    issues.push(`field \`${column}\` must be non-empty text (got ${JSON.stringify(value)})`);
    return undefined;
  }
  return value;
}

function readAnswer(row: Row, column: string, issues: string[]): string | undefined {
  const value = row[column];
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  const text = readText(row, column, issues);
  return text?.trim();
}

function readId(
  row: Row,
  column: string | undefined,
  line: number,
  issues: string[],
): string | undefined {
  if (column === undefined) return String(line);
  const value = row[column];
  if (value === undefined || value === null) {
    issues.push(`missing id field \`${column}\` (the first row has one)`);
    return undefined;
  }
  if (
    (typeof value === "string" && value.trim() !== "") ||
    (typeof value === "number" && Number.isFinite(value))
  ) {
    return String(value);
  }
  issues.push(`id must be text or a number (got ${JSON.stringify(value)})`);
  return undefined;
}
