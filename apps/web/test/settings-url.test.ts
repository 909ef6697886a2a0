import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decodeSettings, encodeSettings } from "../src/lib/settings-url.ts";
import { DEFAULT_LADDER } from "../src/lib/ladder.ts";
import { DEFAULT_SETTINGS, toRunSpec, type PlaygroundSettings } from "../src/lib/run-settings.ts";
import { PRESETS } from "../src/lib/presets.ts";

const roundTrip = (settings: PlaygroundSettings, ladder = DEFAULT_LADDER) =>
  decodeSettings(new URLSearchParams(encodeSettings(settings, ladder).toString()));

describe("settings in the URL", () => {
  it("writes nothing for the defaults, so a plain link stays plain", () => {
    expect(encodeSettings(DEFAULT_SETTINGS).toString()).toBe("");
    expect(decodeSettings(new URLSearchParams()).settings).toEqual(DEFAULT_SETTINGS);
  });

  it("uses the API's own parameter names", () => {
    const query = encodeSettings({
      ...DEFAULT_SETTINGS,
      numWaits: 2,
      maxThinkingTokens: 512,
      waitStrings: ["Wait", "Hmm"],
    });
    expect(query.toString()).toBe(
      "max_thinking_tokens=512&num_waits=2&wait_string=Wait&wait_string=Hmm",
    );
  });

  it("round-trips a full setup, including a custom format, an empty prefix and a ladder", () => {
    const settings: PlaygroundSettings = {
      prompt: "Solve $x^2 = 4$ & explain.\nUse <b>care</b>?",
      mode: "raw",
      backend: "vllm-1",
      model: "Qwen/QwQ-32B",
      format: "custom",
      customStart: "<reason>",
      customEnd: "</reason>",
      customForcedEnd: "\n</reason>\n",
      maxThinkingTokens: 3000,
      minThinkingTokens: 100,
      numWaits: 4,
      waitStrings: ["Wait", "Hmm, wait", "Alternatively"],
      finalAnswerPrefix: "",
      maxAnswerTokens: 77,
      temperature: 0.6,
      topP: 0.95,
      seed: -42,
    };
    const ladder = { param: "min_thinking_tokens" as const, values: [0, 128, 4096] };
    const decoded = roundTrip(settings, ladder);
    expect(decoded.problems).toEqual([]);
    expect(decoded.settings).toEqual(settings);
    expect(decoded.ladder).toEqual(ladder);
  });

  it("round-trips any valid settings", () => {
    const count = fc.integer({ min: 0, max: 100_000 });
    const text = fc.string({ maxLength: 40 });
    const arbitrary = fc.record<PlaygroundSettings>({
      prompt: text,
      mode: fc.constantFrom("chat", "raw"),
      backend: text,
      model: text,
      format: fc.constantFrom("think-tags", "s1", "custom"),
      customStart: text,
      customEnd: text,
      customForcedEnd: text,
      maxThinkingTokens: count,
      minThinkingTokens: count,
      numWaits: fc.integer({ min: 0, max: 64 }),
      waitStrings: fc.array(fc.string({ minLength: 1, maxLength: 12 }), {
        minLength: 1,
        maxLength: 4,
      }),
      finalAnswerPrefix: text,
      maxAnswerTokens: count,
      temperature: fc.double({ min: 0, max: 5, noNaN: true }),
      topP: fc.double({ min: 0.001, max: 1, noNaN: true }),
      seed: fc.option(fc.integer(), { nil: null }),
    });
    fc.assert(
      fc.property(arbitrary, (settings) => {
        const decoded = roundTrip(settings);
        expect(decoded.problems).toEqual([]);
        expect(decoded.settings).toEqual(settings);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps the defaults for bad values and says which", () => {
    const decoded = decodeSettings(
      new URLSearchParams(
        "num_waits=-1&max_thinking_tokens=lots&temperature=9&mode=shout&format=xml&top_p=0&ladder=seed:1,2&min_thinking_tokens=64",
      ),
    );
    expect(decoded.settings).toEqual({ ...DEFAULT_SETTINGS, minThinkingTokens: 64 });
    expect(decoded.problems).toHaveLength(7);
    expect(decoded.problems.join(" ")).toMatch(/num_waits.*-1/);
    expect(decoded.ladder).toEqual(DEFAULT_LADDER);
  });

  it("reproduces the same run request from a shared link", () => {
    const preset = PRESETS.find((p) => p.id === "s1-ignore-twice")!;
    const settings = preset.apply({ ...DEFAULT_SETTINGS, prompt: "How many r in raspberry?" }, {});
    expect(toRunSpec(roundTrip(settings).settings)).toEqual(toRunSpec(settings));
    expect(toRunSpec(settings).budget_forcing).toMatchObject({ num_waits: 2, wait_string: "Wait" });
  });
});
