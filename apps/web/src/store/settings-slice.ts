import { PRESETS } from "../lib/presets.ts";
import { DEFAULT_SETTINGS, type PlaygroundSettings } from "../lib/run-settings.ts";
import { selectedBackend } from "./selectors.ts";
import type { ConnectionState, SettingsState, SliceCreator } from "./slice.ts";

/** The run panel's settings (`settings`, mirrored in the URL's query string). */
export interface SettingsSlice extends SettingsState {
  /** Parameters of the page's URL that could not be read (shown once, then dismissed). */
  urlProblems: string[];
  setSettings(patch: Partial<PlaygroundSettings>): void;
  replaceSettings(settings: PlaygroundSettings): void;
  applyPreset(id: string): void;
  dismissUrlProblems(): void;
}

type Creator = SliceCreator<SettingsSlice, ConnectionState>;

export const createSettingsSlice: Creator = () => (set, get) => ({
  settings: { ...DEFAULT_SETTINGS, waitStrings: [...DEFAULT_SETTINGS.waitStrings] },
  urlProblems: [],
  setSettings: (patch) => set((state) => ({ settings: { ...state.settings, ...patch } })),
  replaceSettings: (settings) => set({ settings }),
  applyPreset(id) {
    const preset = PRESETS.find((p) => p.id === id);
    if (!preset) return;
    const state = get();
    const contextLength = selectedBackend(state)?.capabilities.contextLength;
    set({
      settings: preset.apply(state.settings, contextLength === undefined ? {} : { contextLength }),
    });
  },
  dismissUrlProblems: () => set({ urlProblems: [] }),
});
