import { parseNumber } from "./answer-number.ts";
import { slashToFrac } from "./answer-normalization.ts";
import { splitTopLevel } from "./latex-groups.ts";
import { formatRational, isTerminating, rationalEquals, rationalToNumber } from "./rational.ts";

/**
 * How two answers were compared:
 * - `rational`: both are exact numbers (integers, fractions, decimals) and were compared exactly;
 * - `tolerance`: a decimal against a value no decimal can write exactly
 *   (`0.3333` against `\frac13`): equal within a relative 1e-4;
 * - `elements`: tuples, intervals, lists, sets or matrices, element by element;
 * - `string`: the normalised texts.
 */
export type ComparisonMethod = "rational" | "tolerance" | "elements" | "string";

/** Relative tolerance for a rounded decimal against a non-terminating value. */
export const DECIMAL_TOLERANCE = 1e-4;

interface Structure {
  open: string;
  close: string;
  /** Rows of cells: one row for tuples and lists. */
  rows: string[][];
}

/**
 * Compares two normalised answers (see `normalizeAnswer`). Both sides are
 * treated alike, so the relation is symmetric.
 */
export function compareNormalized(
  a: string,
  b: string,
): { equal: boolean; method: ComparisonMethod } {
  const sa = structureOf(a);
  const sb = structureOf(b);
  if (sa && sb) {
    const sameShape =
      sa.open === sb.open &&
      sa.close === sb.close &&
      sa.rows.length === sb.rows.length &&
      sa.rows.every((row, i) => row.length === sb.rows[i]?.length);
    const equal =
      sameShape &&
      sa.rows.every((row, i) =>
        row.every((cell, j) => compareNormalized(cell, sb.rows[i]?.[j] ?? "").equal),
      );
    return { equal, method: "elements" };
  }

  const na = parseNumber(a);
  const nb = parseNumber(b);
  if (na && nb) {
    if (rationalEquals(na.value, nb.value)) return { equal: true, method: "rational" };
    const approximate =
      (na.decimal && !isTerminating(nb.value)) || (nb.decimal && !isTerminating(na.value));
    if (!approximate) return { equal: false, method: "rational" };
    const x = rationalToNumber(na.value);
    const y = rationalToNumber(nb.value);
    return {
      equal: Math.abs(x - y) <= DECIMAL_TOLERANCE * Math.max(Math.abs(x), Math.abs(y)),
      method: "tolerance",
    };
  }
  return { equal: slashToFrac(a) === slashToFrac(b), method: "string" };
}

/**
 * A key that is equal for answers `compareNormalized` finds equal by exact
 * means (numbers by value, structures element by element, else text), used to
 * group answers for a majority vote. Tolerance matches are not merged: a vote
 * needs a transitive relation.
 */
export function canonicalKey(normalized: string): string {
  const structure = structureOf(normalized);
  if (structure) {
    const rows = structure.rows.map((row) => row.map(canonicalKey).join(",")).join(";");
    return `${structure.open}${rows}${structure.close}`;
  }
  const number = parseNumber(normalized);
  if (number) return formatRational(number.value);
  return slashToFrac(normalized);
}

/**
 * Splits `(1,2)`, `[3,4)`, `\{1,-2\}`, `1,-2` and `\begin{pmatrix}a\\b\end{pmatrix}`
 * into elements; null for a single value.
 */
function structureOf(s: string): Structure | null {
  const matrix = /^\\begin\{([pbvB]?matrix|array)\}(?:\{[^{}]*\})?([\s\S]*)\\end\{\1\}$/.exec(s);
  if (matrix) {
    const body = (matrix[2] as string).replace(/\\\\$/, "");
    const rows = body.split("\\\\").map((row) => splitTopLevel(row, "&"));
    return { open: `\\begin{${matrix[1]}}`, close: `\\end{${matrix[1]}}`, rows };
  }
  let open = "";
  let close = "";
  let inner = s;
  if (s.startsWith("\\{") && s.endsWith("\\}")) {
    [open, close, inner] = ["\\{", "\\}", s.slice(2, -2)];
  } else if (/^[([]/.test(s) && /[)\]]$/.test(s) && enclosesWhole(s)) {
    [open, close, inner] = [s[0] as string, s[s.length - 1] as string, s.slice(1, -1)];
  }
  const items = splitTopLevel(inner, ",");
  if (items.length < 2) return null;
  return { open, close, rows: [items] };
}

/** True when the first bracket closes at the end, so `(1,2)` is one tuple but `(1)(2)` is not. */
function enclosesWhole(s: string): boolean {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === "\\") {
      i++;
      continue;
    }
    if (ch === "(" || ch === "[" || ch === "{") depth++;
    else if (ch === ")" || ch === "]" || ch === "}") {
      depth--;
      if (depth === 0 && i < s.length - 1) return false;
    }
  }
  return depth === 0;
}
