import { describe, expect, it } from "vitest";
import { budgetProblems } from "@thinkscope/protocol";
import { sweepProblem, sweepSettings } from "../src/lib/sweep.ts";

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
