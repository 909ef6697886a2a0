import type { BackendInfo } from "@thinkscope/protocol";
import { PRESETS } from "./presets.ts";
import { DEFAULT_SETTINGS, type PlaygroundSettings } from "./run-settings.ts";

/** The bundled model's file name, as the embedded backend lists it. */
export const TINY_REASONER_MODEL = "tiny-reasoner";

/** A question of the only kind the bundled model was trained on, which it gets right once made to check. */
export const TINY_REASONER_PROMPT = "What is 3891 + 1464?";

/** The model a run with these settings would use on this backend. */
export function selectedModel(settings: PlaygroundSettings, backend: BackendInfo | undefined) {
  return settings.model || backend?.models[0] || "";
}

export function isBundledModel(settings: PlaygroundSettings, backend: BackendInfo | undefined) {
  return selectedModel(settings, backend).includes(TINY_REASONER_MODEL);
}

/**
 * The bundled model's task with the s1 preset (two forced Waits, greedy):
 * the whole story in one run, a quick wrong sum, Wait, a digit-by-digit
 * check, the right answer. Budgets stay at their defaults, so the server
 * fits them to the model's small context.
 */
export function bundledModelStart(settings: PlaygroundSettings): PlaygroundSettings {
  const s1 = PRESETS.find((preset) => preset.id === "s1-ignore-twice");
  const base: PlaygroundSettings = {
    ...settings,
    prompt: TINY_REASONER_PROMPT,
    mode: "chat",
    maxThinkingTokens: DEFAULT_SETTINGS.maxThinkingTokens,
    maxAnswerTokens: DEFAULT_SETTINGS.maxAnswerTokens,
  };
  return s1 ? s1.apply(base, {}) : base;
}

function sameSettings(a: PlaygroundSettings, b: PlaygroundSettings): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * What a fresh page opens on: the bundled model's task when that model is
 * the one selected and nobody chose any setting (no link, no edit yet);
 * otherwise null (leave the settings alone).
 */
export function firstRunSettings(
  settings: PlaygroundSettings,
  backend: BackendInfo | undefined,
): PlaygroundSettings | null {
  if (!sameSettings(settings, DEFAULT_SETTINGS as PlaygroundSettings)) return null;
  if (!isBundledModel(settings, backend)) return null;
  return bundledModelStart(settings);
}
