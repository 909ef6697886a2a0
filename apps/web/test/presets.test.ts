import { describe, expect, it } from "vitest";
import { matchingPreset, PRESETS } from "../src/lib/presets.ts";
import { budgetProblems } from "@thinkscope/protocol";
import { DEFAULT_SETTINGS, toRunSpec, validateSettings } from "../src/lib/run-settings.ts";
import { ladderProblem, ladderRungs, parseLadderValues } from "../src/lib/ladder.ts";

const preset = (id: string) => PRESETS.find((p) => p.id === id)!;

describe("presets", () => {
  it("set the budget each one names", () => {
    const base = { ...DEFAULT_SETTINGS, numWaits: 3, minThinkingTokens: 100 };
    expect(preset("s1-ignore-twice").apply(base, {})).toMatchObject({
      numWaits: 2,
      minThinkingTokens: 0,
      temperature: 0,
    });
    expect(preset("cut-512").apply(base, {})).toMatchObject({
      maxThinkingTokens: 512,
      numWaits: 0,
      minThinkingTokens: 0,
    });
    expect(preset("min-256").apply(base, {})).toMatchObject({
      minThinkingTokens: 256,
      numWaits: 0,
    });
    expect(preset("plain").apply(base, {})).toMatchObject({ numWaits: 0, minThinkingTokens: 0 });
  });

  it("size the plain preset to the model's context", () => {
    const plain = preset("plain").apply(DEFAULT_SETTINGS, { contextLength: 4096 });
    expect(plain.maxThinkingTokens + plain.maxAnswerTokens).toBeLessThan(4096);
  });

  it("always produce valid settings, and are recognised once applied", () => {
    for (const p of PRESETS) {
      const settings = p.apply(
        { ...DEFAULT_SETTINGS, maxThinkingTokens: 100 },
        { contextLength: 8192 },
      );
      expect(validateSettings(settings)).toEqual({});
      expect(matchingPreset(settings, { contextLength: 8192 })?.id).toBe(p.id);
    }
  });
});

describe("ladders", () => {
  it("parse user-typed values", () => {
    expect(parseLadderValues("0, 1 2;4")).toEqual({ values: [0, 1, 2, 4] });
    expect(parseLadderValues("1, 1, 2")).toEqual({ values: [1, 2] });
    expect(parseLadderValues("1, -2")).toEqual({
      error: '"-2" is not a whole number of 0 or more.',
    });
    expect(parseLadderValues(" ")).toHaveProperty("error");
    expect(parseLadderValues("1,2,3,4,5,6,7,8,9")).toHaveProperty("error");
  });

  it("refuse a value that makes its rung invalid, with the reason, never adjusting it", () => {
    const base = toRunSpec({ ...DEFAULT_SETTINGS, minThinkingTokens: 600 });
    const rungs = ladderRungs(base, { param: "max_thinking_tokens", values: [1024, 256] });
    expect(
      rungs.map((r) => [
        r.spec.budget_forcing?.max_thinking_tokens,
        r.spec.budget_forcing?.min_thinking_tokens,
      ]),
    ).toEqual([
      [1024, 600],
      [256, 600],
    ]);
    expect(ladderProblem(rungs, null)).toBe(
      `Rung "cap 256": ${budgetProblems(rungs[1]!.spec.budget_forcing!)[0]!.message}`,
    );
  });

  it("send a swept value as given, and refuse one that does not fit the model's context", () => {
    const rungs = ladderRungs(toRunSpec(DEFAULT_SETTINGS), {
      param: "max_thinking_tokens",
      values: [512, 2048],
    });
    // 2,048 is the default, yet sent: a rung's value is never left to be fitted.
    expect(rungs.map((r) => r.spec.budget_forcing?.max_thinking_tokens)).toEqual([512, 2048]);
    expect(ladderProblem(rungs, { contextLength: 8192, promptTokens: 20 })).toBeNull();
    expect(ladderProblem(rungs, { contextLength: 1024, promptTokens: 20 })).toMatch(
      /^Rung "cap 2048": .*the model's context holds 1024/,
    );
  });
});
