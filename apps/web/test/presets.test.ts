import { describe, expect, it } from "vitest";
import { matchingPreset, PRESETS } from "../src/lib/presets.ts";
import { DEFAULT_SETTINGS, validateSettings } from "../src/lib/run-settings.ts";
import { ladderRungs, parseLadderValues } from "../src/lib/ladder.ts";

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

  it("keep every rung valid when a cap goes below the minimum", () => {
    const rungs = ladderRungs(
      { ...DEFAULT_SETTINGS, minThinkingTokens: 600 },
      { param: "max_thinking_tokens", values: [256, 1024] },
    );
    expect(rungs.map((r) => [r.maxThinkingTokens, r.minThinkingTokens])).toEqual([
      [256, 256],
      [1024, 600],
    ]);
    for (const rung of rungs) expect(validateSettings(rung)).toEqual({});
  });
});
