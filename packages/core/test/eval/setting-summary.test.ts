import { describe, expect, it } from "vitest";
import { passAtK, summarizeSetting, type SampleResult } from "../../src/eval/index.ts";

const sample = (
  problemId: string,
  correct: boolean,
  extractedAnswer: string | null,
  thinkingTokens = 100,
): SampleResult => ({
  problemId,
  correct,
  thinkingTokens,
  extractedAnswer,
});

describe("summarizeSetting", () => {
  it("summarises a hand-made setting", () => {
    const summary = summarizeSetting([
      sample("a", true, "5", 100),
      sample("a", false, "4", 200),
      sample("b", false, "1", 300),
      sample("a", false, "4", 100),
      sample("a", true, "5.0", 100),
      sample("b", false, null, 400),
      sample("b", false, "2", 200),
    ]);
    expect(summary.accuracy).toBeCloseTo(2 / 7, 12);
    expect(summary.mean_thinking_tokens).toBeCloseTo(1400 / 7, 12);
    // a: "5" and "4" tie 2-2, "5" came first and is correct; b: "1" and "2" tie, "1" is wrong.
    expect(summary.majority_vote_accuracy).toBe(0.5);
    // Three samples for b, so pass@1..3: a has n=4, c=2; b has n=3, c=0.
    expect(summary.pass_at_k).toHaveLength(3);
    expect(summary.pass_at_k[0]).toBeCloseTo((0.5 + 0) / 2, 12);
    expect(summary.pass_at_k[1]).toBeCloseTo((1 - 1 / 6) / 2, 12);
    expect(summary.pass_at_k[2]).toBeCloseTo(1 / 2, 12);
  });

  it("averages pass@k per problem, and pass@1 equals accuracy when every problem has n samples", () => {
    const samples = [true, false, false, false, true, true, true, false].map((correct, i) =>
      sample(i < 4 ? "p" : "q", correct, correct ? "1" : "2"),
    );
    const summary = summarizeSetting(samples);
    expect(summary.pass_at_k[0]).toBeCloseTo(summary.accuracy, 12);
    expect(summary.pass_at_k[1]).toBeCloseTo((passAtK(4, 1, 2) + passAtK(4, 3, 2)) / 2, 12);
    expect(summary.majority_vote_accuracy).toBe(0.5);
  });

  it("counts a problem whose samples gave no answer as wrong by vote", () => {
    expect(
      summarizeSetting([sample("x", false, null), sample("x", false, null)]).majority_vote_accuracy,
    ).toBe(0);
  });

  it("refuses empty or bad input", () => {
    expect(() => summarizeSetting([])).toThrow(/no samples/);
    expect(() => summarizeSetting([sample("x", true, "1", -5)])).toThrow(/thinkingTokens/);
  });
});
