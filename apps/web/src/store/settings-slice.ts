import { PRESETS } from "../lib/presets.ts";
import { DEFAULT_SETTINGS, shownSettings, type PlaygroundSettings } from "../lib/run-settings.ts";
import { selectedBackend } from "./selectors.ts";
import type { ConnectionState, PreviewState, SettingsState, SliceCreator } from "./slice.ts";

/** The run panel's settings (`settings`, mirrored in the URL's query string). */
export interface SettingsSlice extends SettingsState {
  /** Parameters of the page's URL that could not be read (shown once, then dismissed). */
  urlProblems: string[];
  setSettings(patch: Partial<PlaygroundSettings>): void;
  replaceSettings(settings: PlaygroundSettings): void;
  applyPreset(id: string): void;
  dismissUrlProblems(): void;
}

type Creator = SliceCreator<SettingsSlice, ConnectionState & PreviewState>;

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
    // A preset acts on the budgets as shown (fitted). One that sets no budget leaves them
    // to the server's fitting; one that sets one gives both, as it sized them.
    const shown = shownSettings(state.settings, state.contextRoom);
    const next = preset.apply(shown, contextLength === undefined ? {} : { contextLength });
    const setsBudget =
      next.maxThinkingTokens !== shown.maxThinkingTokens ||
      next.maxAnswerTokens !== shown.maxAnswerTokens;
    const { maxThinkingTokens, maxAnswerTokens } = state.settings;
    set({ settings: setsBudget ? next : { ...next, maxThinkingTokens, maxAnswerTokens } });
  },
  dismissUrlProblems: () => set({ urlProblems: [] }),
});
