import { describe, expect, it } from "vitest";
import { budgetProblems } from "@thinkscope/protocol";
import { sweepProblem, sweepSettings } from "../src/lib/sweep.ts";
import { defaultLadderValues, ladderProblem, ladderRungs } from "../src/lib/ladder.ts";

describe("a sweep", () => {
  it("is the product of its lists, in the protocol's field order, laid over the base", () => {
    expect(
      sweepSettings(
        { format: "s1", num_waits: 9 },
        { num_waits: [0, 1], max_thinking_tokens: [256, 512] },
      ),
    ).toEqual([
      { format: "s1", max_thinking_tokens: 256, num_waits: 0 },
      { format: "s1", max_thinking_tokens: 256, num_waits: 1 },
      { format: "s1", max_thinking_tokens: 512, num_waits: 0 },
      { format: "s1", max_thinking_tokens: 512, num_waits: 1 },
    ]);
    expect(sweepSettings({ num_waits: 2 }, {})).toEqual([{ num_waits: 2 }]);
  });

  it("is refused for its first invalid setting, with the reason, never adjusted", () => {
    const settings = sweepSettings(
      { min_thinking_tokens: 300 },
      { max_thinking_tokens: [512, 256] },
    );
    expect(settings.map((s) => s.min_thinking_tokens)).toEqual([300, 300]);
    expect(sweepProblem(settings)).toEqual(budgetProblems(settings[1]!)[0]);
    expect(sweepProblem(sweepSettings({}, { num_waits: [0, 1] }))).toBeUndefined();
  });
});

describe("default ladder values", () => {
  it("keep the defaults where they fit, and scale token ladders to a small model's context", () => {
    const big = { contextLength: 32_768, promptTokens: 40 };
    const tiny = { contextLength: 1024, promptTokens: 41 };
    expect(defaultLadderValues("max_thinking_tokens", big, 1024)).toEqual([256, 512, 1024, 2048]);
    expect(defaultLadderValues("max_thinking_tokens", tiny, 122)).toEqual([64, 128, 256, 512]);
    expect(defaultLadderValues("min_thinking_tokens", tiny, 122)).toEqual([0, 64, 128, 256]);
    expect(defaultLadderValues("num_waits", tiny, 122)).toEqual([0, 1, 2, 4]);
    expect(defaultLadderValues("max_thinking_tokens", null, 122)).toEqual([256, 512, 1024, 2048]);
    // Every rung it offers fits.
    const rungs = ladderRungs(
      { prompt: "What is 1 + 2?", budget_forcing: { max_answer_tokens: 122 } },
      {
        param: "max_thinking_tokens",
        values: defaultLadderValues("max_thinking_tokens", tiny, 122),
      },
    );
    expect(ladderProblem(rungs, tiny)).toBeNull();
  });
});
