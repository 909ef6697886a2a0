import { evaluateConstant } from "./constant-expression.ts";
import { parseNumber } from "./answer-number.ts";
import { slashToFrac } from "./answer-normalization.ts";
import { splitTopLevel } from "./latex-groups.ts";
import { formatRational, isTerminating, rationalEquals, rationalToNumber } from "./rational.ts";

/**
 * How two answers were compared:
 * - `rational`: both are exact numbers (integers, fractions, decimals) and were compared exactly;
 * - `tolerance`: a decimal against a value no decimal can write exactly
 *   (`0.3333` against `\frac13`): equal within a relative 1e-4;
 * - `numeric`: closed-form constants (`3\sqrt{13}` against `\sqrt{117}`), by
 *   value within a relative 1e-9, so a rounded decimal of an irrational
 *   value does not pass;
 * - `elements`: tuples, intervals and matrices element by element in order;
 *   sets `\{...\}` and bare lists `1, -2` (MATH's "enter all solutions") in any order;
 * - `string`: the normalised texts.
 */
export type ComparisonMethod = "rational" | "tolerance" | "numeric" | "elements" | "string";

/** Relative tolerance for a rounded decimal against a non-terminating value. */
export const DECIMAL_TOLERANCE = 1e-4;

/** Relative tolerance for two closed forms of one constant (float rounding only). */
const CONSTANT_TOLERANCE = 1e-9;

interface Structure {
  open: string;
  close: string;
  /** Sets and bare lists match in any order. */
  ordered: boolean;
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
      (sa.ordered
        ? sa.rows.every((row, i) =>
            row.every((cell, j) => compareNormalized(cell, sb.rows[i]?.[j] ?? "").equal),
          )
        : sameElements(sa.rows.flat(), sb.rows.flat()));
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
  const va = evaluateConstant(a);
  const vb = evaluateConstant(b);
  if (va !== null && vb !== null) {
    const scale = Math.max(Math.abs(va), Math.abs(vb));
    return { equal: Math.abs(va - vb) <= CONSTANT_TOLERANCE * scale, method: "numeric" };
  }
  return { equal: slashToFrac(a) === slashToFrac(b), method: "string" };
}

/** Each element of `a` pairs with a different, equal element of `b`. */
function sameElements(a: string[], b: string[]): boolean {
  const unused = [...b];
  return a.every((cell) => {
    const match = unused.findIndex((other) => compareNormalized(cell, other).equal);
    if (match < 0) return false;
    unused.splice(match, 1);
    return true;
  });
}

/**
 * A key under which a majority vote groups answers: exact numbers by value,
 * closed forms by value to 12 significant digits, structures element by
 * element (sets and bare lists sorted), anything else by its text. Decimal
 * tolerance matches (`0.3333` and `\frac13`) are not merged: a vote needs a
 * transitive relation.
 */
export function canonicalKey(normalized: string): string {
  const structure = structureOf(normalized);
  if (structure) {
    const rows = structure.rows.map((row) => row.map(canonicalKey));
    const body = structure.ordered
      ? rows.map((row) => row.join(",")).join(";")
      : rows.flat().sort().join(",");
    return `${structure.open}${body}${structure.close}`;
  }
  const number = parseNumber(normalized);
  if (number) return formatRational(number.value);
  // Closed forms by value, to 12 significant digits: `\sqrt{117}` and `3\sqrt{13}` vote together.
  const value = evaluateConstant(normalized);
  if (value !== null) return `~${value.toPrecision(12)}`;
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
    return { open: `\\begin{${matrix[1]}}`, close: `\\end{${matrix[1]}}`, ordered: true, rows };
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
  return { open, close, ordered: open !== "" && open !== "\\{", rows: [items] };
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
