import { useId, useState } from "react";
import { SLIDER_LIMITS } from "../../lib/run-settings.ts";
import { SliderField } from "./slider-field.tsx";
import { useSettings } from "./use-settings.ts";

/** Temperature, top_p and seed. s1 decodes greedily (temperature 0). */
export function SamplingFields() {
  const { settings, set, problems } = useSettings();
  const id = useId();
  const [seedDraft, setSeedDraft] = useState<string | null>(null);
  return (
    <fieldset>
      <legend>Sampling</legend>
      <SliderField
        label="Temperature"
        value={settings.temperature}
        onChange={(temperature) => set({ temperature })}
        min={0}
        max={SLIDER_LIMITS.temperature}
        step={0.05}
        integer={false}
        hint={settings.temperature === 0 ? "0: greedy, as in the s1 paper." : undefined}
        problem={problems.temperature}
      />
      <SliderField
        label="top_p"
        value={settings.topP}
        onChange={(topP) => set({ topP })}
        min={0.05}
        max={1}
        step={0.05}
        integer={false}
        problem={problems.topP}
      />
      <div className="field">
        <label htmlFor={`${id}-seed`}>Seed</label>
        <div className="inline">
          <input
            id={`${id}-seed`}
            type="number"
            step={1}
            placeholder="none"
            value={seedDraft ?? (settings.seed === null ? "" : String(settings.seed))}
            aria-invalid={problems.seed ? true : undefined}
            onChange={(event) => {
              const text = event.target.value;
              setSeedDraft(text);
              if (text.trim() === "") set({ seed: null });
              else if (Number.isSafeInteger(Number(text))) set({ seed: Number(text) });
            }}
            onBlur={() => setSeedDraft(null)}
          />
          <button
            type="button"
            className="small"
            onClick={() => {
              setSeedDraft(null);
              set({ seed: Math.floor(Math.random() * 2 ** 31) });
            }}
          >
            Random
          </button>
          {settings.seed !== null && (
            <button
              type="button"
              className="small"
              onClick={() => {
                setSeedDraft(null);
                set({ seed: null });
              }}
            >
              Clear
            </button>
          )}
        </div>
        <span className="hint">
          Same seed, same settings: the same run, where the backend supports seeds.
        </span>
      </div>
    </fieldset>
  );
}
