/// <reference types="node" />
import { describe, expect, it } from "vitest";
import { answerKey, grade, parseDataset, type Problem } from "../../src/eval/index.ts";
import { describeWithSharedData, readSharedData, sharedDataMissing } from "./shared-data.ts";

const load = (name: Parameters<typeof readSharedData>[0]): Problem[] =>
  sharedDataMissing ? [] : parseDataset(readSharedData(name)).problems;
const math500 = load("math500-test.jsonl");
const aime = load("aime24.jsonl");
const gsm8k = load("gsm8k-test.jsonl");

/** Ways a model writes a reference answer back, all of which must grade correct. */
const wrappers: [string, (answer: string) => string][] = [
  ["\\boxed{}", (a) => `Thinking done. So the result is $\\boxed{${a}}$.`],
  ["Final Answer:", (a) => `Final Answer: ${a}`],
  ["Minerva", (a) => `Final Answer: The final answer is $${a}$. I hope it is correct.`],
  ["The answer is", (a) => `We check it twice.\nThe answer is $${a}$.`],
  ["\\fbox{}", (a) => `\\fbox{${a}}`],
];

function share(
  problems: Problem[],
  output: (answer: string) => string,
): { share: number; failed: string[] } {
  const failed = problems
    .filter((p) => !grade(output(p.answer), p.answer).correct)
    .map((p) => p.answer);
  return { share: (problems.length - failed.length) / problems.length, failed };
}

describeWithSharedData("the grader on the reference sets", () => {
  describe.each([
    ["MATH-500", math500],
    ["AIME 2024", aime],
    ["GSM8K", gsm8k],
  ])("%s reference answers graded against themselves", (_name, problems) => {
    it.each(wrappers)("all round-trip through %s", (_wrapper, output) => {
      const result = share(problems, output);
      // The failed answers are listed so a regression names its cases.
      expect(result.failed).toEqual([]);
      expect(result.share).toBe(1);
    });
  });

  /**
   * Rewrites an answer into an equivalent form a model might write, or null when
   * the rewrite does not apply. Each rewrite is independent of the grader's code.
   */
  const rewrites: [string, (answer: string) => string | null][] = [
    [
      "\\frac{a}{b} -> a/b",
      (a) =>
        /^-?\\[dt]?frac\{(\d+)\}\{(\d+)\}$/.test(a)
          ? a.replace(/\\[dt]?frac\{(\d+)\}\{(\d+)\}/, "$1/$2")
          : null,
    ],
    [
      "\\frac{a}{b} -> \\dfrac a b",
      (a) =>
        /^-?\\frac\{\d\}\{\d\}$/.test(a)
          ? a.replace(/\\frac\{(\d)\}\{(\d)\}/, "\\dfrac$1$2")
          : null,
    ],
    ["integer -> n.0", (a) => (/^-?\d+$/.test(a) ? `${a}.0` : null)],
    [
      "integer -> thousands commas",
      (a) => (/^\d{4,}$/.test(a) ? Number(a).toLocaleString("en-US") : null),
    ],
    ["integer -> x = n", (a) => (/^-?\d+$/.test(a) ? `x = ${a}` : null)],
    ["integer -> with a unit", (a) => (/^\d+$/.test(a) ? `${a} \\text{ units}` : null)],
    [
      "degrees -> ^{\\circ}",
      (a) => (/\^\\circ$/.test(a) ? a.replace(/\^\\circ$/, "^{\\circ}") : null),
    ],
    [
      "degrees -> bare number",
      (a) => (/^\d+\^\\circ$/.test(a) ? a.replace(/\^\\circ$/, "") : null),
    ],
    [
      "\\left( ... \\right) -> ( ... )",
      (a) => (a.includes("\\left") ? a.replace(/\\left|\\right/g, "") : null),
    ],
    ["decimal -> fraction", (a) => (/^\d*\.\d+$/.test(a) ? decimalToFraction(a) : null)],
    [
      "spaces added after commas",
      (a) => (/,/.test(a) && !/\d,\d{3}/.test(a) ? a.replace(/,\s*/g, ", ") : null),
    ],
    ["\\text{X} -> X", (a) => /^\\text\{([^{}]+)\}$/.exec(a)?.[1] ?? null],
  ];

  function decimalToFraction(decimal: string): string {
    const [whole = "", fraction = ""] = decimal.split(".");
    return `\\frac{${BigInt(whole + fraction)}}{${10n ** BigInt(fraction.length)}}`;
  }

  describe("MATH-500 answers in equivalent forms", () => {
    it.each(rewrites)("%s", (_name, rewrite) => {
      const cases = math500.flatMap((p) => {
        const written = rewrite(p.answer);
        return written === null ? [] : [{ reference: p.answer, written }];
      });
      expect(cases.length).toBeGreaterThan(0);
      const failed = cases.filter((c) => !grade(`\\boxed{${c.written}}`, c.reference).correct);
      expect(failed).toEqual([]);
    });
  });

  describe("no false matches between different MATH-500 answers", () => {
    it("grades each answer wrong against the next five different answers", () => {
      const falseMatches: [string, string][] = [];
      math500.forEach((p, i) => {
        let checked = 0;
        for (let j = i + 1; j < math500.length + i && checked < 5; j++) {
          const other = math500[j % math500.length] as Problem;
          if (answerKey(other.answer) === answerKey(p.answer)) continue;
          checked++;
          if (grade(`\\boxed{${other.answer}}`, p.answer).correct)
            falseMatches.push([other.answer, p.answer]);
        }
      });
      expect(falseMatches).toEqual([]);
    });

    it("grades off-by-one integers wrong", () => {
      const integers = [...math500, ...aime, ...gsm8k].filter((p) => /^-?\d+$/.test(p.answer));
      const wrong = integers.filter(
        (p) => grade(`\\boxed{${BigInt(p.answer) + 1n}}`, p.answer).correct,
      );
      expect(wrong).toEqual([]);
    });
  });

  describe("GSM8K answers as models write them", () => {
    it("accept dollars, thousands commas and a trailing full stop", () => {
      const failed = gsm8k.filter((p) => {
        const pretty = /^\d+$/.test(p.answer) ? Number(p.answer).toLocaleString("en-US") : p.answer;
        return !grade(`So she makes \\$${pretty} every day.\nThe answer is \\$${pretty}.`, p.answer)
          .correct;
      });
      expect(failed).toEqual([]);
    });
  });
});
