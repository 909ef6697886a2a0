import type { BudgetForcing, PromptMode, RunSpec, Sampling } from "@thinkscope/protocol";

export type FormatChoice = "think-tags" | "s1" | "custom";

/**
 * Everything the run panel edits, flat and camelCase so each control binds to
 * one field. `toRunSpec` turns it into the wire `RunSpec`; `settings-url.ts`
 * writes it to the query string under the API's own snake_case names.
 */
export interface PlaygroundSettings {
  prompt: string;
  mode: PromptMode;
  /** A configured backend id; "" means the server's default. */
  backend: string;
  /** "" means the backend's default model. */
  model: string;
  format: FormatChoice;
  customStart: string;
  customEnd: string;
  /** "" lets the server derive the forced close from `customEnd`. */
  customForcedEnd: string;
  maxThinkingTokens: number;
  minThinkingTokens: number;
  numWaits: number;
  waitStrings: string[];
  finalAnswerPrefix: string;
  maxAnswerTokens: number;
  temperature: number;
  topP: number;
  /** null: no seed is sent. */
  seed: number | null;
}

/**
 * The engine's defaults (packages/core/src/settings.ts `DEFAULTS`), repeated
 * here because the page must not bundle engine code. A default is never
 * written to the URL, so the two must agree; the server stays the authority.
 */
export const DEFAULT_SETTINGS: Readonly<PlaygroundSettings> = Object.freeze({
  prompt: "How many r's are in the word raspberry?",
  mode: "chat",
  backend: "",
  model: "",
  format: "think-tags",
  customStart: "<think>",
  customEnd: "</think>",
  customForcedEnd: "",
  maxThinkingTokens: 2048,
  minThinkingTokens: 0,
  numWaits: 0,
  waitStrings: ["Wait"],
  finalAnswerPrefix: "Final Answer:",
  maxAnswerTokens: 1024,
  temperature: 0,
  topP: 1,
  seed: null,
});

/** Hard cap on extensions per run on the server (core `DEFAULTS.max_extensions`). */
export const MAX_WAITS = 64;
/** Upper ends of the sliders; the number fields accept any valid value beyond them. */
export const SLIDER_LIMITS = {
  maxThinkingTokens: 16_384,
  minThinkingTokens: 16_384,
  numWaits: 16,
  maxAnswerTokens: 8_192,
  temperature: 2,
} as const;

export type SettingsProblems = Partial<Record<keyof PlaygroundSettings, string>>;

const isCount = (value: number) => Number.isInteger(value) && value >= 0;

/**
 * The checks the server also makes (core `resolveSettings`), done here so the
 * Run button can say what is wrong before anything is sent.
 */
export function validateSettings(settings: PlaygroundSettings): SettingsProblems {
  const problems: SettingsProblems = {};
  if (settings.prompt.trim() === "") problems.prompt = "Write a prompt to run.";
  for (const key of [
    "maxThinkingTokens",
    "minThinkingTokens",
    "numWaits",
    "maxAnswerTokens",
  ] as const) {
    if (!isCount(settings[key])) problems[key] = "A whole number, 0 or more.";
  }
  if (!problems.minThinkingTokens && settings.minThinkingTokens > settings.maxThinkingTokens) {
    problems.minThinkingTokens = `Above the maximum of ${settings.maxThinkingTokens} thinking tokens.`;
  }
  if (!problems.numWaits && settings.numWaits > MAX_WAITS) {
    problems.numWaits = `At most ${MAX_WAITS} (the server's cap on extensions per run).`;
  }
  if (settings.waitStrings.length === 0 || settings.waitStrings.some((s) => s === "")) {
    problems.waitStrings = "At least one wait string, none empty.";
  }
  if (settings.format === "custom") {
    if (settings.customStart === "") problems.customStart = "The start delimiter is needed.";
    if (settings.customEnd === "") problems.customEnd = "The end delimiter is needed.";
  }
  if (!(settings.temperature >= 0 && settings.temperature <= 5)) {
    problems.temperature = "From 0 to 5.";
  }
  if (!(settings.topP > 0 && settings.topP <= 1)) problems.topP = "Above 0 and at most 1.";
  if (settings.seed !== null && !Number.isInteger(settings.seed)) problems.seed = "A whole number.";
  return problems;
}

export function formatOf(settings: PlaygroundSettings): BudgetForcing["format"] {
  if (settings.format !== "custom") return settings.format;
  return {
    start: settings.customStart,
    end: settings.customEnd,
    ...(settings.customForcedEnd !== "" ? { forced_end: settings.customForcedEnd } : {}),
  };
}

/** The wire request for these settings. Empty choices are left out so the server's defaults apply. */
export function toRunSpec(settings: PlaygroundSettings): RunSpec {
  const budget: BudgetForcing = {
    format: formatOf(settings),
    max_thinking_tokens: settings.maxThinkingTokens,
    min_thinking_tokens: settings.minThinkingTokens,
    num_waits: settings.numWaits,
    wait_string:
      settings.waitStrings.length === 1
        ? (settings.waitStrings[0] ?? "Wait")
        : [...settings.waitStrings],
    final_answer_prefix: settings.finalAnswerPrefix,
    max_answer_tokens: settings.maxAnswerTokens,
  };
  const sampling: Sampling = { temperature: settings.temperature };
  if (settings.topP !== 1) sampling.top_p = settings.topP;
  if (settings.seed !== null) sampling.seed = settings.seed;
  const spec: RunSpec = {
    prompt: settings.prompt,
    mode: settings.mode,
    budget_forcing: budget,
    sampling,
  };
  if (settings.backend !== "") spec.backend = settings.backend;
  if (settings.model !== "") spec.model = settings.model;
  return spec;
}

/**
 * Settings from a stored run's request (for "open in playground"); fields
 * the run did not set keep the page's defaults.
 */
export function settingsFromRun(run: {
  prompt: string;
  mode: PromptMode;
  backend: string;
  model: string | null;
  budgetForcing: BudgetForcing;
  sampling: Sampling;
}): PlaygroundSettings {
  const bf = run.budgetForcing;
  const format = bf.format;
  const custom = typeof format === "object" ? format : null;
  const wait = bf.wait_string;
  return {
    ...DEFAULT_SETTINGS,
    prompt: run.prompt,
    mode: run.mode,
    backend: run.backend,
    model: run.model ?? "",
    // The page offers no harmony choice (gpt-oss): such a run reopens with the default format.
    format:
      format === "think-tags" || format === "s1"
        ? format
        : custom
          ? "custom"
          : DEFAULT_SETTINGS.format,
    customStart: custom?.start ?? DEFAULT_SETTINGS.customStart,
    customEnd: custom
      ? Array.isArray(custom.end)
        ? (custom.end[0] ?? "")
        : custom.end
      : DEFAULT_SETTINGS.customEnd,
    customForcedEnd: custom?.forced_end ?? "",
    maxThinkingTokens: bf.max_thinking_tokens ?? DEFAULT_SETTINGS.maxThinkingTokens,
    minThinkingTokens: bf.min_thinking_tokens ?? DEFAULT_SETTINGS.minThinkingTokens,
    numWaits: bf.num_waits ?? DEFAULT_SETTINGS.numWaits,
    waitStrings:
      wait === undefined
        ? [...DEFAULT_SETTINGS.waitStrings]
        : Array.isArray(wait)
          ? [...wait]
          : [wait],
    finalAnswerPrefix: bf.final_answer_prefix ?? DEFAULT_SETTINGS.finalAnswerPrefix,
    maxAnswerTokens: bf.max_answer_tokens ?? DEFAULT_SETTINGS.maxAnswerTokens,
    temperature: run.sampling.temperature ?? DEFAULT_SETTINGS.temperature,
    topP: run.sampling.top_p ?? DEFAULT_SETTINGS.topP,
    seed: run.sampling.seed ?? null,
  };
}

/** Room left for the prompt when budgets are fitted to a small context. */
const PROMPT_ROOM = 256;

/**
 * The default budgets (2,048 + 1,024 tokens) do not fit a small model's
 * context (the bundled tiny reasoner has 1,024), and the server would refuse
 * the first run. Budgets the user has not touched are fitted to the context;
 * budgets the user chose are left alone (the server then says what is wrong).
 */
export function fitDefaultBudgets(
  settings: PlaygroundSettings,
  contextLength: number | undefined,
): PlaygroundSettings {
  const untouched =
    settings.maxThinkingTokens === DEFAULT_SETTINGS.maxThinkingTokens &&
    settings.maxAnswerTokens === DEFAULT_SETTINGS.maxAnswerTokens;
  if (!untouched || contextLength === undefined) return settings;
  if (settings.maxThinkingTokens + settings.maxAnswerTokens + PROMPT_ROOM <= contextLength) {
    return settings;
  }
  const maxAnswerTokens = Math.min(settings.maxAnswerTokens, Math.floor(contextLength / 8));
  const maxThinkingTokens = Math.max(0, contextLength - maxAnswerTokens - PROMPT_ROOM);
  return {
    ...settings,
    maxAnswerTokens,
    maxThinkingTokens,
    minThinkingTokens: Math.min(settings.minThinkingTokens, maxThinkingTokens),
  };
}
