/**
 * Brace matching for LaTeX: `\boxed{\frac{1}{2}}` nests, and `\{` / `\}` are
 * literal braces, not groups, so regular expressions cannot find where an
 * argument ends.
 */

/**
 * Index of the `}` closing the group opened at `open` (which must hold `{`),
 * or -1 when the text ends first (a truncated output).
 */
export function matchingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === "\\") {
      i++;
      continue;
    }
    if (ch === "{") depth++;
    else if (ch === "}") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/**
 * The argument of a command at `start` (just after its name): a `{...}` group
 * (after optional spaces), or else the single next token, as TeX reads
 * `\frac12` or `\boxed 5`. Returns the argument and the index after it.
 */
export function readArgument(text: string, start: number): { arg: string; end: number } | null {
  let i = start;
  while (text[i] === " ") i++;
  if (i >= text.length) return null;
  if (text[i] === "{") {
    const close = matchingBrace(text, i);
    if (close < 0) return null;
    return { arg: text.slice(i + 1, close), end: close + 1 };
  }
  if (text[i] === "\\") {
    const name = /^\\(?:[a-zA-Z]+|.)/.exec(text.slice(i));
    if (!name) return null;
    return { arg: name[0], end: i + name[0].length };
  }
  if (text[i] === "}") return null;
  return { arg: text[i] as string, end: i + 1 };
}

/**
 * Splits at the top-level occurrences of `separator` (a one-character string),
 * ignoring those inside `{}`, `()` or `[]`. Unbalanced closers are tolerated
 * because intervals like `(3,4]` mix bracket kinds.
 */
export function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === "\\") {
      current += ch + (text[i + 1] ?? "");
      i++;
      continue;
    }
    if (ch === "{" || ch === "(" || ch === "[") depth++;
    else if ((ch === "}" || ch === ")" || ch === "]") && depth > 0) depth--;
    if (ch === separator && depth === 0) {
      parts.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

/**
 * Every complete `\name{...}` (or `\name token`) in the text, in order, with
 * where each starts and ends.
 */
export function findCommandArguments(
  text: string,
  names: readonly string[],
): { name: string; arg: string; start: number; end: number }[] {
  const found: { name: string; arg: string; start: number; end: number }[] = [];
  const pattern = new RegExp(`\\\\(${names.join("|")})(?![a-zA-Z])`, "g");
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    const parsed = readArgument(text, match.index + match[0].length);
    if (parsed) {
      found.push({
        name: match[1] as string,
        arg: parsed.arg,
        start: match.index,
        end: parsed.end,
      });
    }
  }
  return found;
}
