import { BUDGET_DEFAULTS } from "@thinkscope/protocol";
import { formatCount } from "../../lib/format.ts";
import { SLIDER_LIMITS } from "../../lib/run-settings.ts";
import { MONO, TextField } from "../text-field.tsx";
import { SliderField } from "./slider-field.tsx";
import { useSettings } from "./use-settings.ts";
import { WaitStringsField } from "./wait-strings-field.tsx";

/** Slider stops for token budgets: fine steps where budgets usually are, coarse above. */
export const TOKEN_STOPS = [
  0, 16, 32, 64, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 12288,
  16384,
] as const;

/** The budget-forcing parameters (docs/engine.md, "Settings"). */
export function BudgetFields() {
  const { settings, shown, room, set, problems } = useSettings();
  // Said when a budget left at its default is fitted, so the number shown is never a surprise.
  const fitted = room
    ? `Fitted to the model's context of ${formatCount(room.contextLength)} tokens (the prompt takes ${formatCount(room.promptTokens)}).`
    : undefined;
  return (
    <fieldset>
      <legend>Budget forcing</legend>
      <SliderField
        label="Max thinking tokens"
        value={shown.maxThinkingTokens}
        onChange={(v) => set({ maxThinkingTokens: v })}
        min={0}
        max={SLIDER_LIMITS.maxThinkingTokens}
        stops={TOKEN_STOPS}
        hint={
          shown.maxThinkingTokens !== settings.maxThinkingTokens
            ? fitted
            : "At this count the close is forced."
        }
        problem={problems.maxThinkingTokens}
      />
      <SliderField
        label="Min thinking tokens"
        value={settings.minThinkingTokens}
        onChange={(v) => set({ minThinkingTokens: v })}
        min={0}
        max={SLIDER_LIMITS.minThinkingTokens}
        stops={TOKEN_STOPS}
        hint="An end below this count is answered with a wait."
        problem={problems.minThinkingTokens}
      />
      <SliderField
        label="Number of waits"
        value={settings.numWaits}
        onChange={(v) => set({ numWaits: v })}
        min={0}
        max={SLIDER_LIMITS.numWaits}
        inputMax={BUDGET_DEFAULTS.max_extensions}
        hint="Ignore the model's end this many times."
        problem={problems.numWaits}
      />
      <WaitStringsField
        values={settings.waitStrings}
        onChange={(waitStrings) => set({ waitStrings })}
        problem={problems.waitStrings}
      />
      <TextField
        label="Final-answer prefix"
        value={settings.finalAnswerPrefix}
        hint="Appended after a forced close."
        onChange={(finalAnswerPrefix) => set({ finalAnswerPrefix })}
        inputProps={MONO}
      />
      <SliderField
        label="Max answer tokens"
        value={shown.maxAnswerTokens}
        onChange={(v) => set({ maxAnswerTokens: v })}
        min={0}
        max={SLIDER_LIMITS.maxAnswerTokens}
        stops={TOKEN_STOPS.filter((v) => v <= SLIDER_LIMITS.maxAnswerTokens)}
        hint={shown.maxAnswerTokens !== settings.maxAnswerTokens ? fitted : undefined}
        problem={problems.maxAnswerTokens}
      />
    </fieldset>
  );
}
