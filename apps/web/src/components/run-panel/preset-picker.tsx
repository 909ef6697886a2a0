import { matchingPreset, PRESETS } from "../../lib/presets.ts";
import { useApp } from "../../store/app-store.ts";
import { selectedBackend } from "../../store/selectors.ts";
import { useSettings } from "./use-settings.ts";

/** One-click budget setups; the one the settings match shows as pressed. */
export function PresetPicker() {
  // The budgets as shown (fitted), which is what presets act on.
  const { shown } = useSettings();
  const contextLength = useApp((s) => selectedBackend(s)?.capabilities.contextLength);
  const applyPreset = useApp((s) => s.applyPreset);
  const active = matchingPreset(shown, contextLength === undefined ? {} : { contextLength });
  return (
    <fieldset>
      <legend>Presets</legend>
      <div className="preset-list">
        {PRESETS.map((preset) => (
          <button
            key={preset.id}
            type="button"
            className="small"
            aria-pressed={active?.id === preset.id}
            title={preset.description}
            onClick={() => applyPreset(preset.id)}
          >
            {preset.label}
          </button>
        ))}
      </div>
    </fieldset>
  );
}
