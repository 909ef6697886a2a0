import { describe, expect, it } from "vitest";
import { evaluateConstant } from "../../src/eval/constant-expression.ts";

describe("evaluateConstant", () => {
  it.each([
    ["3\\sqrt{13}", 3 * Math.sqrt(13)],
    ["\\frac{3\\sqrt{3}}{4}", (3 * Math.sqrt(3)) / 4],
    ["18+2\\pi", 18 + 2 * Math.PI],
    ["\\frac{20000}{\\pi}", 20000 / Math.PI],
    ["-\\frac{\\pi^2}{8}", -(Math.PI ** 2) / 8],
    ["2^{10}", 1024],
    ["(1+2)(3)", 9],
    ["1\\frac{4}{5}", 1.8],
    ["\\sqrt[3]{-8}", -2],
    ["2\\cdot3-4/8", 5.5],
  ])("%s", (text, value) => {
    expect(evaluateConstant(text)).toBeCloseTo(value, 12);
  });

  it.each([
    "x+1",
    "\\cot x",
    "6-5i",
    "1\\pm\\sqrt{19}",
    "\\infty",
    "\\sqrt{-1}",
    "\\frac{1}{0}",
    "(1+2",
    "\\pmod{3}",
    "",
  ])("%s is not a constant", (text) => {
    expect(evaluateConstant(text)).toBeNull();
  });
});
