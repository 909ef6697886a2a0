import { describe, expect, it } from "vitest";
import { s1Metrics, type ScalingPoint } from "../../src/eval/index.ts";

/** Runs from the s1 paper's appendix (AIME24, 30 questions, so accuracy is k/30). */
function runs(
  tokens: number[],
  correct: number[],
  budgets: { min?: number; max?: number }[],
): ScalingPoint[] {
  return tokens.map((thinkingTokens, i) => ({
    thinkingTokens,
    accuracy: (correct[i] as number) / 30,
    minTokens: budgets[i]?.min,
    maxTokens: budgets[i]?.max,
  }));
}

const tokenLimits = [1024, 2048, 4096, 8192, 16384].map((max) => ({ max }));
// Step-conditional control: the paper allows 100 tokens per instructed step.
const stepLimits = [16, 32, 64, 128, 256].map((steps) => ({ max: 100 * steps }));

describe("s1Metrics reproduces the s1 paper's Table 3 from its Tables 11 to 13", () => {
  it.each([
    [
      "token-conditional",
      runs([7939, 7158, 8263, 7108, 7500], [8, 9, 10, 10, 12], tokenLimits),
      0.4,
      -24,
      12 / 30,
    ],
    [
      "token-conditional + BF",
      runs([1024, 2048, 4031, 5664, 6330], [1, 9, 10, 10, 12], tokenLimits),
      1,
      13,
      12 / 30,
    ],
    [
      "step-conditional",
      runs([7252, 6277, 5396, 5552, 7551], [10, 7, 10, 11, 10], stepLimits),
      0.6,
      3,
      11 / 30,
    ],
    [
      "step-conditional + BF",
      runs([1517, 2963, 4636, 5409, 7551], [7, 7, 10, 11, 10], stepLimits),
      1,
      6,
      11 / 30,
    ],
    // Short should think less than the default 6109 tokens, long should think more.
    [
      "class-conditional",
      runs([8033, 9651], [9, 11], [{ max: 6109 }, { min: 6109 }]),
      0.5,
      25,
      11 / 30,
    ],
  ])("%s", (_name, points, control, scaling, performance) => {
    const metrics = s1Metrics(points);
    expect(metrics.control).toBe(control);
    expect(Math.round(metrics.scaling as number)).toBe(scaling);
    expect(metrics.performance).toBeCloseTo(performance, 12);
  });
});

describe("s1Metrics", () => {
  const points: ScalingPoint[] = [
    { thinkingTokens: 1000, accuracy: 0.2, maxTokens: 1000 },
    { thinkingTokens: 2000, accuracy: 0.3, maxTokens: 2048 },
    { thinkingTokens: 4000, accuracy: 0.5, maxTokens: 3000 },
  ];

  it("averages the pairwise slopes per doubling: (10 + 20 + 30/2) / 3 = 15", () => {
    const metrics = s1Metrics(points);
    expect(metrics.scaling).toBeCloseTo(15, 12);
    expect(metrics.control).toBeCloseTo(2 / 3, 12);
    expect(metrics.performance).toBe(0.5);
  });

  it("gives the literal per-token slope on the tokens axis", () => {
    expect(s1Metrics(points, { axis: "tokens" }).scaling).toBeCloseTo(0.01, 12);
  });

  it("does not depend on the order of the runs", () => {
    expect(s1Metrics([...points].reverse()).scaling).toBeCloseTo(15, 12);
  });

  it("is negative for inverse scaling", () => {
    const inverse = s1Metrics([
      { thinkingTokens: 3000, accuracy: 0.4 },
      { thinkingTokens: 6000, accuracy: 0.3 },
    ]);
    expect(inverse.scaling).toBeCloseTo(-10, 12);
  });

  it("counts a pair with equal tokens in the number of pairs but adds no slope", () => {
    const metrics = s1Metrics([
      { thinkingTokens: 1000, accuracy: 0.2 },
      { thinkingTokens: 1000, accuracy: 0.4 },
      { thinkingTokens: 2000, accuracy: 0.4 },
    ]);
    expect(metrics.scaling).toBeCloseTo((20 + 0) / 3, 12);
  });

  it("returns null where a metric is undefined", () => {
    expect(s1Metrics([])).toEqual({ control: null, scaling: null, performance: null });
    expect(s1Metrics([{ thinkingTokens: 10, accuracy: 0.5 }])).toEqual({
      control: null,
      scaling: null,
      performance: 0.5,
    });
  });

  it("refuses bad input clearly", () => {
    expect(() => s1Metrics([{ thinkingTokens: 0, accuracy: 0.5 }])).toThrow(/log2 axis has no 0/);
    expect(() => s1Metrics([{ thinkingTokens: 10, accuracy: 50 }])).toThrow(
      /accuracy must be from 0 to 1/,
    );
    expect(s1Metrics([{ thinkingTokens: 0, accuracy: 0.5 }], { axis: "tokens" }).performance).toBe(
      0.5,
    );
  });
});
