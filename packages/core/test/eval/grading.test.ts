import { describe, expect, it } from "vitest";
import { answerKey, answersEquivalent, grade, normalizeAnswer } from "../../src/eval/index.ts";

describe("normalizeAnswer", () => {
  it.each([
    ["  $5$ ", "5"],
    ["\\boxed{\\dfrac{1}{2}}", "\\frac{1}{2}"],
    ["\\tfrac12", "\\frac{1}{2}"],
    ["\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})"],
    ["10,\\!080", "10080"],
    ["1,000,000", "1000000"],
    ["1,-2", "1,-2"],
    ["90^\\circ", "90"],
    ["90^{\\circ}", "90"],
    ["\\$32,\\!348", "32348"],
    ["50\\%", "50"],
    ["864 \\mbox{ inches}^2", "864"],
    ["5.4 \\text{ cents}", "5.4"],
    ["18 dollars", "18"],
    ["\\text{Evelyn}", "evelyn"],
    ["\\text{(C)}", "C"],
    ["x = 5", "5"],
    ["5x - 7y + 11z + 4 = 0", "5x-7y+11z+4=0"],
    [".35625", "0.35625"],
    ["11\\sqrt2", "11\\sqrt{2}"],
    ["4210_{5}", "4210_5"],
    ["\\pi/2", "\\frac{\\pi}{2}"],
    ["\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}"],
  ])("%s -> %s", (raw, normalized) => {
    expect(normalizeAnswer(raw)).toBe(normalized);
  });
});

describe("grade", () => {
  it.each([
    ["\\boxed{0.5}", "\\frac12", "rational"],
    ["\\boxed{1/2}", "\\dfrac{1}{2}", "rational"],
    ["\\boxed{5.0}", "5", "rational"],
    ["\\boxed{5.00}", "5", "rational"],
    ["\\boxed{\\$1,000.00}", "1000", "rational"],
    ["The answer is 18.9.", "\\$18.90", "rational"],
    ["\\boxed{50\\%}", "50", "rational"],
    ["\\boxed{x = 3}", "3", "rational"],
    ["\\boxed{90}", "90^\\circ", "rational"],
    ["\\boxed{1.8}", "1\\frac{4}{5}", "rational"],
    ["\\boxed{\\frac{9}{5}}", "1\\frac{4}{5}", "rational"],
    ["\\boxed{1.5 \\times 10^{3}}", "1500", "rational"],
    ["\\boxed{0.3333}", "\\frac{1}{3}", "tolerance"],
    ["\\boxed{033}", "33", "rational"],
    ["\\boxed{10 \\text{ cm}}", "10", "rational"],
    ["\\boxed{(3, \\pi/2)}", "\\left( 3, \\frac{\\pi}{2} \\right)", "elements"],
    ["\\boxed{-\\pi/6}", "-\\frac{\\pi}{6}", "numeric"],
    ["\\boxed{\\sqrt{2}}", "\\sqrt2", "numeric"],
    ["\\boxed{\\frac{1}{\\sqrt{3}}}", "\\frac{\\sqrt{3}}{3}", "numeric"],
    ["\\boxed{\\sqrt{117}}", "3\\sqrt{13}", "numeric"],
    ["\\boxed{\\frac{3}{4}\\sqrt{3}}", "\\frac{3\\sqrt{3}}{4}", "numeric"],
    ["\\boxed{2\\pi + 18}", "18+2\\pi", "numeric"],
    ["\\boxed{\\sqrt[3]{8}}", "2", "numeric"],
    ["\\boxed{7, 5, 3}", "3, 5, 7", "elements"],
    ["\\boxed{\\{-2, 1\\pm\\sqrt{5}\\}}", "\\{1\\pm\\sqrt{5},-2\\}", "elements"],
    ["\\boxed{[-2,7]}", "x \\in [-2,7]", "elements"],
    ["\\boxed{6-5i}", "6 - 5i", "string"],
    ["\\boxed{C}", "\\text{(C)}", "string"],
    ["\\boxed{\\text{Evelyn}}", "Evelyn", "string"],
    [
      "\\boxed{\\begin{pmatrix} -\\frac{1}{3} \\\\ \\frac23 \\\\ \\frac{5}{3} \\end{pmatrix}}",
      "\\begin{pmatrix} -1/3 \\\\ 2/3 \\\\ 5/3 \\end{pmatrix}",
      "elements",
    ],
    ["\\boxed{[\\frac{1}{2}, 3)}", "\\left[ 0.5, 3 \\right)", "elements"],
  ])("%s equals %s", (output, reference, method) => {
    const result = grade(output, reference);
    expect(result.correct).toBe(true);
    expect(result.method).toBe(method);
  });

  it.each([
    ["\\boxed{6}", "5"],
    ["\\boxed{0.33}", "\\frac{1}{3}"],
    ["\\boxed{3.14}", "3.1416"],
    ["\\boxed{5.01}", "5"],
    ["\\boxed{12}", "1,2"],
    ["\\boxed{(3,4)}", "(3,4]"],
    ["\\boxed{(2,1)}", "(1,2)"],
    ["\\boxed{(1,2,3)}", "(1,2)"],
    ["\\boxed{2}", "2\\sqrt{2}"],
    ["\\boxed{-5}", "5"],
    ["\\boxed{\\frac{1}{2}}", "\\frac{1}{3}"],
    ["\\boxed{B}", "\\text{(C)}"],
    ["\\boxed{1.7321}", "\\sqrt{3}"],
    ["\\boxed{2\\sqrt{3}}", "3\\sqrt{2}"],
    ["\\boxed{1, 2}", "1, 2, 2"],
    ["\\boxed{\\pi}", "\\frac{22}{7}"],
  ])("%s differs from %s", (output, reference) => {
    expect(grade(output, reference).correct).toBe(false);
  });

  it("shows what it compared", () => {
    expect(grade("so x is \\boxed{\\dfrac{3}{6}}", "0.5")).toEqual({
      correct: true,
      extracted: "\\dfrac{3}{6}",
      extractionRule: "boxed",
      normalizedExtracted: "\\frac{3}{6}",
      normalizedReference: "0.5",
      method: "rational",
    });
  });

  it("says when there was no answer", () => {
    expect(grade("no idea", "5")).toEqual({
      correct: false,
      extracted: null,
      extractionRule: null,
      normalizedExtracted: null,
      normalizedReference: "5",
      method: "no_answer",
    });
  });
});

describe("answersEquivalent and answerKey", () => {
  it("are symmetric", () => {
    expect(answersEquivalent("\\frac{1}{3}", "0.3333")).toBe(true);
    expect(answersEquivalent("0.3333", "\\frac{1}{3}")).toBe(true);
  });

  it("key equal values alike and different values apart", () => {
    expect(answerKey("\\frac12")).toBe(answerKey("0.5"));
    expect(answerKey("1/2")).toBe(answerKey("\\dfrac{2}{4}"));
    expect(answerKey("(1, 0.5)")).toBe(answerKey("\\left(1,\\frac12\\right)"));
    expect(answerKey("\\frac12")).not.toBe(answerKey("\\frac13"));
    expect(answerKey("\\sqrt{117}")).toBe(answerKey("3\\sqrt{13}"));
    expect(answerKey("3, 5, 7")).toBe(answerKey("7,3,5"));
    expect(answerKey("(3, 5)")).not.toBe(answerKey("(5, 3)"));
  });
});
