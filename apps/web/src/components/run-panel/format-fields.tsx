import type { FormatChoice } from "../../lib/run-settings.ts";
import { SegmentedChoice } from "../segmented-choice.tsx";
import { MONO, TextField } from "../text-field.tsx";
import { useSettings } from "./use-settings.ts";

const FORMATS: { value: FormatChoice; label: string; hint: string }[] = [
  {
    value: "think-tags",
    label: "<think>",
    hint: "DeepSeek-R1 distills, QwQ, Qwen3: thinking between <think> and </think>.",
  },
  { value: "s1", label: "s1", hint: "s1 / s1.1: <|im_start|>think … <|im_start|>answer." },
  { value: "custom", label: "Custom", hint: "Your own start and end delimiters." },
];

/** The thinking format: how the model opens and closes its thinking. */
export function FormatFields() {
  const { settings, set, problems } = useSettings();
  const current = FORMATS.find((f) => f.value === settings.format);
  return (
    <fieldset>
      <legend>Thinking format</legend>
      <div className="field">
        <SegmentedChoice
          label="Thinking format"
          options={FORMATS}
          value={settings.format}
          onChange={(format) => set({ format })}
        />
        <span className={problems.format ? "problem" : "hint"}>
          {problems.format ?? current?.hint}
        </span>
      </div>
      {settings.format === "custom" && (
        <>
          <TextField
            label="Start delimiter"
            value={settings.customStart}
            onChange={(v) => set({ customStart: v })}
            inputProps={MONO}
          />
          <TextField
            label="End delimiter"
            value={settings.customEnd}
            onChange={(v) => set({ customEnd: v })}
            inputProps={MONO}
          />
          <TextField
            label="Forced close (optional)"
            value={settings.customForcedEnd}
            hint="Appended when the budget forces the close, before the answer prefix."
            onChange={(v) => set({ customForcedEnd: v })}
            inputProps={{ ...MONO, placeholder: `\\n${settings.customEnd}\\n\\n` }}
          />
        </>
      )}
    </fieldset>
  );
}
