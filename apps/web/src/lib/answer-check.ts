/**
 * Whether an answer is right, where the right answer is known: the
 * reference an experiment's problem carries, or one worked out from the
 * prompt itself when it is plain arithmetic ("What is 3891 + 1464?", the
 * bundled model's task). Anything else has no reference, and no verdict.
 */

export type Verdict = "right" | "wrong";

const ARITHMETIC =
  /^\s*(?:what\s+is|compute|calculate|evaluate)?\s*(-?\d{1,15})\s*([+\-*×x−])\s*(-?\d{1,15})\s*(?:=\s*)?\??\s*$/i;

/** The answer to a prompt that is one sum, difference or product of two whole numbers; else null. */
export function referenceFromPrompt(prompt: string): string | null {
  // An experiment's template puts instructions after the problem: the problem is its first line.
  const match = ARITHMETIC.exec(prompt) ?? ARITHMETIC.exec(prompt.trim().split("\n")[0] ?? "");
  if (!match) return null;
  const a = BigInt(match[1]!);
  const b = BigInt(match[3]!);
  switch (match[2]) {
    case "+":
      return String(a + b);
    case "-":
    case "−":
      return String(a - b);
    default:
      return String(a * b);
  }
}

/** The argument of the last `\boxed{...}` (braces balanced), or null. */
export function lastBoxed(text: string): string | null {
  const start = text.lastIndexOf("\\boxed{");
  if (start < 0) return null;
  let depth = 0;
  for (let i = start + "\\boxed".length; i < text.length; i++) {
    const char = text[i];
    if (char === "{") depth += 1;
    else if (char === "}") {
      depth -= 1;
      if (depth === 0) return text.slice(start + "\\boxed{".length, i);
    }
  }
  return null;
}

/** The final answer in an answer's text: the last boxed value, else the last number; null when there is none. */
export function finalAnswer(text: string): string | null {
  const boxed = lastBoxed(text);
  if (boxed !== null) return boxed;
  const numbers = text.match(/-?\d[\d,]*(?:\.\d+)?/g);
  return numbers?.at(-1) ?? null;
}

/** A form two answers can be compared in: no spaces, `$`, `\text{}`, thousands separators or trailing dot. */
export function normalizeAnswer(answer: string): string {
  let text = answer
    .trim()
    .replace(/\\text\{([^}]*)\}/g, "$1")
    .replace(/\\[,;!]|\\ /g, "")
    .replace(/[$\s]/g, "")
    .replace(/\.$/, "");
  if (/^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(text)) text = text.replace(/,/g, "");
  if (/^-?\d+\.0+$/.test(text)) text = text.replace(/\.0+$/, "");
  return text;
}

/** Right or wrong against a known reference; null when either side is missing. */
export function judgeAnswer(answerText: string, reference: string | null): Verdict | null {
  if (reference === null || reference.trim() === "") return null;
  const given = finalAnswer(answerText);
  if (given === null) return answerText.trim() === "" ? null : "wrong";
  return normalizeAnswer(given) === normalizeAnswer(reference) ? "right" : "wrong";
}
