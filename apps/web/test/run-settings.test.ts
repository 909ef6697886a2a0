import { describe, expect, it } from "vitest";
import { BUDGET_DEFAULTS, budgetProblems, samplingProblems } from "@thinkscope/protocol";
import { DEFAULT_SETTINGS, toRunSpec, validateSettings } from "../src/lib/run-settings.ts";

describe("the run panel's settings", () => {
  it("start from the protocol's defaults", () => {
    const { budget_forcing } = toRunSpec(DEFAULT_SETTINGS);
    expect({ ...BUDGET_DEFAULTS, ...budget_forcing }).toEqual(BUDGET_DEFAULTS);
    expect(validateSettings(DEFAULT_SETTINGS)).toEqual({});
  });

  it("show each of the protocol's problems at the control that edits its field", () => {
    const tooMany = { ...DEFAULT_SETTINGS, numWaits: BUDGET_DEFAULTS.max_extensions + 1 };
    expect(validateSettings(tooMany)).toEqual({
      numWaits: budgetProblems(toRunSpec(tooMany).budget_forcing!)[0]!.message,
    });
    expect(
      validateSettings({
        ...DEFAULT_SETTINGS,
        format: "custom",
        customStart: "",
        temperature: 6,
        topP: 0,
      }),
    ).toEqual({
      format: "A custom format needs a non-empty `start` string.",
      temperature: samplingProblems({ temperature: 6 })[0]!.message,
      topP: samplingProblems({ top_p: 0 })[0]!.message,
    });
  });
});
