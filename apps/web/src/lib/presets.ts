import type { PlaygroundSettings } from "./run-settings.ts";

export interface PresetContext {
  /** The selected model's context length, when the backend reports it. */
  contextLength?: number;
}

export interface Preset {
  id: string;
  label: string;
  description: string;
  apply(settings: PlaygroundSettings, context: PresetContext): PlaygroundSettings;
}

/** Room left for the prompt when a preset sizes the thinking to the context. */
const PROMPT_ALLOWANCE = 512;

/** Budget-forcing setups people ask for by name; each changes only the budget fields. */
export const PRESETS: readonly Preset[] = [
  {
    id: "plain",
    label: "Plain (no forcing)",
    description:
      "No waits, no minimum, and a cap as large as the context allows: the model thinks as it likes.",
    apply: (s, { contextLength }) => ({
      ...s,
      numWaits: 0,
      minThinkingTokens: 0,
      maxThinkingTokens:
        contextLength === undefined
          ? 16_384
          : Math.max(0, contextLength - s.maxAnswerTokens - PROMPT_ALLOWANCE),
    }),
  },
  {
    id: "s1-ignore-twice",
    label: "s1 paper: ignore the end twice",
    description:
      'Suppress the end of thinking twice, appending "Wait" each time, greedy decoding (s1, Fig. 3).',
    apply: (s) => ({
      ...s,
      numWaits: 2,
      minThinkingTokens: 0,
      waitStrings: ["Wait"],
      temperature: 0,
    }),
  },
  {
    id: "cut-512",
    label: "Cut at 512 tokens",
    description: 'Force the close (and "Final Answer:") once the thinking reaches 512 tokens.',
    apply: (s) => ({ ...s, maxThinkingTokens: 512, minThinkingTokens: 0, numWaits: 0 }),
  },
  {
    id: "min-256",
    label: "Minimum 256 thinking tokens",
    description: 'Any attempt to stop before 256 thinking tokens is answered with "Wait".',
    apply: (s) => ({
      ...s,
      minThinkingTokens: 256,
      numWaits: 0,
      maxThinkingTokens: Math.max(s.maxThinkingTokens, 256),
    }),
  },
  {
    id: "rotate-waits",
    label: "Four waits, rotating strings",
    description:
      'Four extensions cycling "Wait", "Hmm", "Alternatively": the paper\'s cure for loops.',
    apply: (s) => ({
      ...s,
      numWaits: 4,
      minThinkingTokens: 0,
      waitStrings: ["Wait", "Hmm", "Alternatively"],
    }),
  },
];

/** The preset these settings already match, if any (to show it as selected). */
export function matchingPreset(
  settings: PlaygroundSettings,
  context: PresetContext,
): Preset | undefined {
  const key = JSON.stringify(settings);
  return PRESETS.find((preset) => JSON.stringify(preset.apply(settings, context)) === key);
}
