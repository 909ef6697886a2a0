import { findCommandArguments } from "./latex-groups.ts";

/** Which rule found the answer, in the order they are tried. */
export type ExtractionRule =
  "boxed" | "fbox" | "final_answer" | "the_answer_is" | "answer_line" | "hashes" | "last_number";

export interface ExtractedAnswer {
  /** The answer text as written (LaTeX kept); normalisation happens when grading. */
  answer: string;
  rule: ExtractionRule;
}

/**
 * Phrases that announce an answer. Each captures from the end of the phrase;
 * the text up to the end of that line is the candidate.
 */
const PHRASES: { rule: ExtractionRule; pattern: RegExp }[] = [
  // s1's forced close appends "Final Answer:"; Minerva-style prompts answer
  // "Final Answer: The final answer is $X$. I hope it is correct."
  { rule: "final_answer", pattern: /final\s+answer\s*(?:\*\*)?\s*:(?:\*\*)?/gi },
  { rule: "the_answer_is", pattern: /the\s+(?:final\s+)?answer\s+is\s*:?/gi },
  { rule: "answer_line", pattern: /(?:^|\n)[ \t*#>-]*answer\s*(?:\*\*)?\s*:(?:\*\*)?/gi },
  // GSM8K's own solutions end with "#### N", and few-shot prompts copy it.
  { rule: "hashes", pattern: /####/g },
];

// A thousands-grouped number, a plain or decimal number, or a simple fraction.
const NUMBER = /-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?(?:\/\d+)?|-?\.\d+/g;

/**
 * The model's final answer, tried in this order:
 * 1. the last complete `\boxed{...}` or `\fbox{...}` (nested braces allowed;
 *    a box cut off by the token limit is skipped);
 * 2. the latest of the phrases `Final Answer:`, `The answer is`, an
 *    `Answer:` line, or `####`: the rest of that line (or the next non-empty
 *    line when the phrase ends its line), reduced to its last `$...$` span if
 *    it has one, without a trailing "I hope it is correct." or full stop;
 * 3. the last number in the text.
 * Returns null when the output holds none of these.
 *
 * Pass the answer segment when the run has one: a number in the thinking
 * trace is not an answer.
 */
export function extractAnswer(output: string): ExtractedAnswer | null {
  const boxes = findCommandArguments(output, ["boxed", "fbox"]).filter((b) => b.arg.trim() !== "");
  // The outermost of the boxes that end last: `\boxed{\boxed{5}}` yields `\boxed{5}`,
  // which the grader unwraps.
  const box = boxes.reduce<(typeof boxes)[number] | undefined>(
    (best, b) =>
      !best || b.end > best.end || (b.end === best.end && b.start < best.start) ? b : best,
    undefined,
  );
  if (box) return { answer: box.arg.trim(), rule: box.name === "fbox" ? "fbox" : "boxed" };

  // The latest line with a phrase wins; on one line the phrase listed first
  // wins, so "Final Answer: The final answer is $5$" counts as `final_answer`.
  let latest: { rule: ExtractionRule; line: number; answer: string } | undefined;
  for (const { rule, pattern } of PHRASES) {
    for (const match of output.matchAll(pattern)) {
      const after = match.index + match[0].length;
      const line = lineOf(output, after);
      const answer = cleanTail(restOfLine(output, after));
      if (answer !== "" && (!latest || line > latest.line)) latest = { rule, line, answer };
    }
  }
  if (latest) return { answer: latest.answer, rule: latest.rule };

  const numbers = [...output.matchAll(NUMBER)];
  const last = numbers[numbers.length - 1];
  return last ? { answer: last[0], rule: "last_number" } : null;
}

function lineOf(text: string, index: number): number {
  let line = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < index; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

/** The rest of the line at `from`, or the next non-empty line if that is blank. */
function restOfLine(text: string, from: number): string {
  const lines = text.slice(from).split("\n");
  const first = lines[0] ?? "";
  if (first.trim() !== "") return first;
  return lines.slice(1).find((line) => line.trim() !== "") ?? "";
}

/** Reduces "The final answer is $5$. I hope it is correct." to "5". */
function cleanTail(raw: string): string {
  let text = raw.trim();
  text = text.replace(/^the\s+(?:final\s+)?answer\s+is\s*:?/i, "").trim();
  const spans = mathSpans(text);
  const lastSpan = spans[spans.length - 1];
  if (lastSpan !== undefined) return lastSpan.trim();
  text = text.replace(/\s*I hope it is correct\.?\s*$/i, "");
  // A sentence after the answer ("42. That is the count.") is not part of it;
  // a decimal point is never followed by a space.
  const sentenceEnd = /\.\s+[A-Z]/.exec(text);
  if (sentenceEnd) text = text.slice(0, sentenceEnd.index);
  return text
    .replace(/^[*_\s]+|[*_\s]+$/g, "")
    .replace(/\.$/, "")
    .trim();
}

/** Contents of `$...$`, `$$...$$`, `\(...\)` and `\[...\]` spans; `\$` is a literal dollar. */
function mathSpans(text: string): string[] {
  const spans: string[] = [];
  const pattern =
    /\$\$([\s\S]+?)\$\$|(?<!\\)\$((?:\\\$|[^$])+?)(?<!\\)\$|\\\(([\s\S]+?)\\\)|\\\[([\s\S]+?)\\\]/g;
  for (const match of text.matchAll(pattern)) {
    const body = match[1] ?? match[2] ?? match[3] ?? match[4];
    if (body !== undefined && body.trim() !== "") spans.push(body);
  }
  return spans;
}
