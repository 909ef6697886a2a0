import { InvalidRequestError } from "@thinkscope/core";
import type { RunDetail } from "@thinkscope/protocol";
import { Compile } from "typebox/compile";
import { describeSchemaErrors, dottedPath } from "../lib/schema-errors.ts";
import { RunDetailSchema } from "../schemas/runs.ts";

const checkRun = Compile(RunDetailSchema);
const MAX_REPORTED = 10;

/**
 * Reads a JSONL export: one `RunDetail` per line, blank lines ignored. Every
 * line is checked before anything is stored; a bad file is refused whole with
 * the line numbers and what is wrong on each (the first ten).
 */
export function parseRunsJsonl(body: string): RunDetail[] {
  const runs: RunDetail[] = [];
  const problems: string[] = [];
  let badLines = 0;
  const lines = body.split("\n");
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === "") return;
    const problem = checkLine(line, (run) => runs.push(run));
    if (problem) {
      badLines += 1;
      if (problems.length < MAX_REPORTED) problems.push(`line ${index + 1}: ${problem}`);
    }
  });
  if (badLines > 0) {
    const more =
      badLines > problems.length ? ` (and ${badLines - problems.length} more bad lines)` : "";
    throw new InvalidRequestError(
      "invalid_import",
      `Nothing was imported: ${badLines} of ${badLines + runs.length} lines are not valid runs${more}. ${problems.join("; ")}`,
    );
  }
  if (runs.length === 0) {
    throw new InvalidRequestError(
      "invalid_import",
      "The file holds no runs (one JSON run per line expected).",
    );
  }
  return runs;
}

function checkLine(line: string, accept: (run: RunDetail) => void): string | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return `not JSON (${(error as Error).message})`;
  }
  if (!checkRun.Check(value)) {
    return describeSchemaErrors(checkRun.Errors(value), (path) => dottedPath(path, "the run"));
  }
  accept(value as RunDetail);
  return null;
}
