import { InvalidRequestError } from "../errors.ts";
import type { Problem } from "./problem.ts";
import { SeededRandom } from "./seeded-random.ts";

export type GeneratedKind = "addition" | "subtraction" | "multiplication" | "expression";

export const GENERATED_KINDS: readonly GeneratedKind[] = [
  "addition",
  "subtraction",
  "multiplication",
  "expression",
];

export interface GeneratorOptions {
  /** Any integer; the same seed and options give the same problems everywhere. */
  seed: number;
  /** How many problems, 1 to 100,000. */
  count: number;
  /** Digits per operand, 1 to 12: the difficulty. */
  digits: number;
  /** Kinds to draw from, one picked at random per problem; all four by default. */
  kinds?: readonly GeneratedKind[];
}

type Operator = "+" | "-" | "*";

/**
 * Small problems with exact integer answers, so there is always something to
 * run offline: multi-digit addition, subtraction (never negative),
 * multiplication, and short expressions of three or four operands with
 * `+ - *`, sometimes one parenthesised pair. Answers are computed with BigInt,
 * so 12-digit products are exact.
 */
export function generateProblems(options: GeneratorOptions): Problem[] {
  const { seed, count, digits } = options;
  const kinds = options.kinds ?? GENERATED_KINDS;
  if (!Number.isSafeInteger(seed)) throw invalid(`seed must be an integer (got ${seed}).`);
  if (!Number.isInteger(count) || count < 1 || count > 100_000) {
    throw invalid(`count must be a whole number from 1 to 100000 (got ${count}).`);
  }
  if (!Number.isInteger(digits) || digits < 1 || digits > 12) {
    throw invalid(`digits must be a whole number from 1 to 12 (got ${digits}).`);
  }
  const unknown = kinds.filter((kind) => !GENERATED_KINDS.includes(kind));
  if (kinds.length === 0 || unknown.length > 0) {
    throw invalid(
      `kinds must be a non-empty list of ${GENERATED_KINDS.join(", ")} (got ${JSON.stringify(kinds)}).`,
    );
  }

  const random = new SeededRandom(seed);
  const width = String(count).length;
  return Array.from({ length: count }, (_, index) => {
    const kind = random.pick(kinds);
    const { expression, value } =
      kind === "expression" ? expressionOf(random, digits) : binaryOf(random, kind, digits);
    return {
      id: `gen-s${seed}-d${digits}-${String(index + 1).padStart(width, "0")}`,
      problem: `What is ${expression}?`,
      answer: value.toString(),
      meta: { kind, digits, seed, expression },
    };
  });
}

function invalid(message: string): InvalidRequestError {
  return new InvalidRequestError("invalid_generator_options", message);
}

/** A number with exactly `digits` digits (no leading zero). */
function operand(random: SeededRandom, digits: number): bigint {
  let text = String(random.int(1, 9));
  for (let i = 1; i < digits; i++) text += String(random.int(0, 9));
  return BigInt(text);
}

function binaryOf(
  random: SeededRandom,
  kind: Exclude<GeneratedKind, "expression">,
  digits: number,
): { expression: string; value: bigint } {
  let a = operand(random, digits);
  let b = operand(random, digits);
  if (kind === "subtraction" && a < b) [a, b] = [b, a];
  const operator: Operator = kind === "addition" ? "+" : kind === "subtraction" ? "-" : "*";
  return { expression: `${a} ${operator} ${b}`, value: apply(a, operator, b) };
}

function expressionOf(random: SeededRandom, digits: number): { expression: string; value: bigint } {
  const size = random.int(3, 4);
  const values = Array.from({ length: size }, () => operand(random, digits));
  const operators = Array.from({ length: size - 1 }, () => random.pick<Operator>(["+", "-", "*"]));
  const texts = values.map(String);
  // Half the time, group one adjacent pair so the order of operations matters.
  if (random.int(0, 1) === 1) {
    const at = random.int(0, size - 2);
    const operator = operators[at] as Operator;
    const grouped = apply(values[at] as bigint, operator, values[at + 1] as bigint);
    const text = `(${texts[at]} ${operator} ${texts[at + 1]})`;
    values.splice(at, 2, grouped);
    texts.splice(at, 2, text);
    operators.splice(at, 1);
  }
  const expression = texts
    .map((text, i) => (i === 0 ? text : `${operators[i - 1]} ${text}`))
    .join(" ");
  return { expression, value: evaluate(values, operators) };
}

/** Evaluates `v0 op0 v1 op1 ...` with `*` before `+` and `-`, left to right. */
function evaluate(values: bigint[], operators: Operator[]): bigint {
  const terms: bigint[] = [values[0] as bigint];
  const signs: Operator[] = [];
  operators.forEach((operator, i) => {
    const value = values[i + 1] as bigint;
    if (operator === "*") terms[terms.length - 1] = (terms[terms.length - 1] as bigint) * value;
    else {
      terms.push(value);
      signs.push(operator);
    }
  });
  return terms
    .slice(1)
    .reduce((sum, term, i) => apply(sum, signs[i] as Operator, term), terms[0] as bigint);
}

function apply(a: bigint, operator: Operator, b: bigint): bigint {
  if (operator === "+") return a + b;
  if (operator === "-") return a - b;
  return a * b;
}
