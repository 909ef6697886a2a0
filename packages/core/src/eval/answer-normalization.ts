import { findCommandArguments, matchingBrace, readArgument } from "./latex-groups.ts";

/**
 * Puts an answer in a canonical written form, so that the same answer written
 * two ways compares equal as a string. Equality by value (`0.5` against
 * `\frac12`, `\sqrt{117}` against `3\sqrt{13}`) is decided later on this
 * form (see `compareNormalized`).
 *
 * The steps follow the MATH benchmark's own grader (Hendrycks et al.,
 * `strip_string`) and add what model outputs need: surrounding `$...$`,
 * `\boxed`, thousands separators, `\mbox` units, plain-word units.
 */
export function normalizeAnswer(raw: string): string {
  let s = raw.trim();
  s = unwrapOuter(s);
  s = s.replace(/\n/g, " ");
  // LaTeX spacing commands and the thin space in `10,\!080`.
  s = s.replace(/\\\\|\\[!,;:> ]|~/g, (m) => (m === "\\\\" ? m : " "));
  s = s.replace(/\\displaystyle(?![a-zA-Z])/g, "");
  s = s.replace(/\\[dt]frac(?![a-zA-Z])/g, "\\frac");
  s = s.replace(/\\(?:left|right|[bB]igg?[lr]?)(?![a-zA-Z])\.?/g, "");
  s = s.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ(?![a-zA-Z])|°|\\degree(?![a-zA-Z])/g, "");
  s = s.replace(/\\\$|\$/g, "");
  s = s.replace(/\\%|%/g, "");
  s = removeUnits(s);
  s = unwrapText(s);
  s = s
    .replace(/\\(?:le|leq|leqslant)(?![a-zA-Z])/g, "\\le")
    .replace(/\\(?:ge|geq|geqslant)(?![a-zA-Z])/g, "\\ge");
  s = stripVariable(s);
  s = s.replace(/\s+/g, "");
  s = unwrapOuter(s);
  s = fixSqrt(s);
  s = fixFracs(s);
  // Single-character sub- and superscripts need no braces: `4210_{5}` is `4210_5`.
  s = s.replace(/([_^])\{(\w)\}/g, "$1$2");
  s = s.replace(/(^|[^\d])\.(\d)/g, (_m, before: string, digit: string) => `${before}0.${digit}`);
  if (/^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(s)) s = s.replace(/,/g, "");
  s = s.replace(/(\d)\.$/, "$1");
  s = slashToFrac(s);
  // Multiple-choice answers: `\text{(C)}` and `C` are the same choice.
  s = s.replace(/^\(([A-Z])\)$/, "$1");
  if (/^[a-zA-Z]{2,}$/.test(s)) s = s.toLowerCase();
  return s;
}

/** Removes wrappers around the whole answer: `$...$`, `\(...\)`, `\boxed{...}`, `{...}`. */
function unwrapOuter(text: string): string {
  let s = text.trim();
  for (;;) {
    const before = s;
    if (/^\$\$[\s\S]*\$\$$/.test(s) && s.length >= 4) s = s.slice(2, -2).trim();
    else if (/^\$[\s\S]*\$$/.test(s) && s.length >= 2 && !s.endsWith("\\$"))
      s = s.slice(1, -1).trim();
    else if (/^\\\([\s\S]*\\\)$/.test(s) || /^\\\[[\s\S]*\\\]$/.test(s)) s = s.slice(2, -2).trim();
    else {
      const box = /^\\(?:boxed|fbox)(?![a-zA-Z])/.exec(s);
      if (box) {
        const arg = readArgument(s, box[0].length);
        if (arg && s.slice(arg.end).trim() === "") s = arg.arg.trim();
      } else if (s.startsWith("{") && matchingBrace(s, 0) === s.length - 1) {
        s = s.slice(1, -1).trim();
      }
    }
    if (s === before) return s;
  }
}

/**
 * Drops units written after the value: `5.4 \text{ cents}`, `864 \mbox{ inches}^2`,
 * `\frac{270}7\text{ degrees}`, and plain words after a number (`18 dollars`).
 * A `\text{...}` that is the whole answer (`\text{Evelyn}`) is kept.
 */
function removeUnits(text: string): string {
  let s = text.trim();
  for (;;) {
    const units = findCommandArguments(s, ["text", "textrm", "mbox", "mathrm"]);
    const last = units[units.length - 1];
    if (!last || last.start === 0) break;
    const tail = s.slice(last.end);
    if (!/^\s*(?:\^\s*(?:\{\s*\d\s*\}|\d))?\s*$/.test(tail)) break;
    // `\mathrm{...}` after a value is a unit only when it is a word (`\mathrm{cm}`).
    if (last.name === "mathrm" && !/^\s*[a-zA-Z]{2,}\s*$/.test(last.arg)) break;
    s = s.slice(0, last.start).trim();
  }
  const plain = /^([+-]?[\d.,]*\d)\s+[a-zA-Z]{2,}(?:\s+[a-zA-Z]+)*(?:\^\d)?$/.exec(s);
  return plain ? (plain[1] as string) : s;
}

/** `\text{east}` -> `east`, wherever it stands. */
function unwrapText(text: string): string {
  let s = text;
  for (;;) {
    const found = findCommandArguments(s, [
      "text",
      "textbf",
      "textit",
      "textrm",
      "mbox",
      "mathrm",
      "mathbf",
    ]);
    const first = found[0];
    if (!first) return s;
    s = s.slice(0, first.start) + first.arg + s.slice(first.end);
  }
}

/**
 * `x = 5` -> `5`, `\theta=\pi` -> `\pi`, `x \in [-2,7]` -> `[-2,7]`; an
 * equation with a longer left side is kept.
 */
function stripVariable(text: string): string {
  const membership = /^\s*(?:[a-zA-Z]|\\[a-zA-Z]+)(?:_\{?\w+\}?)?\s*\\in(?![a-zA-Z])/.exec(text);
  if (membership) return text.slice(membership[0].length);
  const parts = text.split("=");
  if (parts.length !== 2) return text;
  const [left = "", right = ""] = parts;
  if (/^\s*(?:[a-zA-Z]|\\[a-zA-Z]+)(?:_\{?\w+\}?)?\s*$/.test(left) && right.trim() !== "")
    return right;
  return text;
}

/** `\sqrt2` -> `\sqrt{2}` (spaces are already gone). */
function fixSqrt(text: string): string {
  return text.replace(/\\sqrt(?![a-zA-Z{[])(\w)/g, "\\sqrt{$1}");
}

/** `\frac12`, `\frac1{2}`, `\frac{1}2` -> `\frac{1}{2}`. */
function fixFracs(text: string): string {
  let out = "";
  let i = 0;
  for (;;) {
    const at = text.indexOf("\\frac", i);
    if (at < 0) return out + text.slice(i);
    out += text.slice(i, at) + "\\frac";
    const numerator = readArgument(text, at + 5);
    const denominator = numerator && readArgument(text, numerator.end);
    if (!numerator || !denominator) return out + text.slice(at + 5);
    out += `{${fixFracs(numerator.arg)}}{${fixFracs(denominator.arg)}}`;
    i = denominator.end;
  }
}

// A number, a letter, or a command with one braced argument or none.
const ATOM = String.raw`(?:\d+(?:\.\d+)?|[a-zA-Z]|\\[a-zA-Z]+(?:\{[^{}]*\})?)`;
const SLASH_FRACTION = new RegExp(`^([+-]?)(${ATOM})/(${ATOM})$`);

/**
 * `a/b` -> `\frac{a}{b}` when the text is one simple quotient (`\pi/2`,
 * `\sqrt{3}/3`, `-1/3`). The grader also applies it to each element of a
 * tuple or matrix.
 */
export function slashToFrac(text: string): string {
  const match = SLASH_FRACTION.exec(text);
  return match ? `${match[1]}\\frac{${match[2]}}{${match[3]}}` : text;
}
