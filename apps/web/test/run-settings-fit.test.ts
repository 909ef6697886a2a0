import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, fitDefaultBudgets } from "../src/lib/run-settings.ts";

describe("fitting untouched default budgets to a small model's context", () => {
  it("fits the defaults into the tiny reasoner's 1,024-token context", () => {
    const fitted = fitDefaultBudgets({ ...DEFAULT_SETTINGS }, 1024);
    expect(fitted.maxAnswerTokens).toBe(128);
    expect(fitted.maxThinkingTokens).toBe(640);
    expect(fitted.maxThinkingTokens + fitted.maxAnswerTokens + 256).toBeLessThanOrEqual(1024);
  });

  it("leaves budgets alone when they fit, when the context is unknown, or when the user chose them", () => {
    const defaults = { ...DEFAULT_SETTINGS };
    expect(fitDefaultBudgets(defaults, 32_768)).toBe(defaults);
    expect(fitDefaultBudgets(defaults, undefined)).toBe(defaults);
    const chosen = { ...DEFAULT_SETTINGS, maxThinkingTokens: 4096 };
    expect(fitDefaultBudgets(chosen, 1024)).toBe(chosen);
  });
});
