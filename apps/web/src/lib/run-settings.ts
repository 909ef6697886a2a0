import {
  BUDGET_DEFAULTS,
  budgetProblems,
  SAMPLING_DEFAULTS,
  samplingProblems,
  type BudgetForcing,
  type PromptMode,
  type RunSpec,
  type Sampling,
} from "@thinkscope/protocol";

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

/** A fresh panel: the protocol's defaults, which a link never repeats. */
export const DEFAULT_SETTINGS: Readonly<PlaygroundSettings> = Object.freeze({
  prompt: "How many r's are in the word raspberry?",
  mode: "chat",
  backend: "",
  model: "",
  format: BUDGET_DEFAULTS.format,
  customStart: "<think>",
  customEnd: "</think>",
  customForcedEnd: "",
  maxThinkingTokens: BUDGET_DEFAULTS.max_thinking_tokens,
  minThinkingTokens: BUDGET_DEFAULTS.min_thinking_tokens,
  numWaits: BUDGET_DEFAULTS.num_waits,
  waitStrings: [BUDGET_DEFAULTS.wait_string],
  finalAnswerPrefix: BUDGET_DEFAULTS.final_answer_prefix,
  maxAnswerTokens: BUDGET_DEFAULTS.max_answer_tokens,
  temperature: SAMPLING_DEFAULTS.temperature,
  topP: SAMPLING_DEFAULTS.top_p,
  seed: null,
});

/** Upper ends of the sliders; the number fields accept any valid value beyond them. */
export const SLIDER_LIMITS = {
  maxThinkingTokens: 16_384,
  minThinkingTokens: 16_384,
  numWaits: 16,
  maxAnswerTokens: 8_192,
  temperature: 2,
} as const;

export type SettingsProblems = Partial<Record<keyof PlaygroundSettings, string>>;

/** A field of the request's `budget_forcing` or `sampling`, as the protocol names problems. */
type SettingField = keyof BudgetForcing | keyof Sampling;

/**
 * The panel's control for each field, so a problem the protocol finds shows
 * beside what edits it. The page sends neither `max_extensions` nor `top_k`;
 * their entries only say where a problem with them would show.
 */
const CONTROL_OF: Record<SettingField, keyof PlaygroundSettings> = {
  format: "format",
  max_thinking_tokens: "maxThinkingTokens",
  min_thinking_tokens: "minThinkingTokens",
  num_waits: "numWaits",
  wait_string: "waitStrings",
  final_answer_prefix: "finalAnswerPrefix",
  max_answer_tokens: "maxAnswerTokens",
  max_extensions: "numWaits",
  temperature: "temperature",
  top_p: "topP",
  top_k: "temperature",
  seed: "seed",
};

/**
 * What is wrong with the settings, by control: the protocol's rules (the
 * server's own), checked here so the Run button can say what is wrong
 * before anything is sent.
 */
export function validateSettings(settings: PlaygroundSettings): SettingsProblems {
  const problems: SettingsProblems = {};
  if (settings.prompt.trim() === "") problems.prompt = "Write a prompt to run.";
  const { budget_forcing = {}, sampling = {} } = toRunSpec(settings);
  for (const { field, message } of [
    ...budgetProblems(budget_forcing),
    ...samplingProblems(sampling),
  ]) {
    problems[CONTROL_OF[field as SettingField]] ??= message;
  }
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
        ? (settings.waitStrings[0] ?? BUDGET_DEFAULTS.wait_string)
        : [...settings.waitStrings],
    final_answer_prefix: settings.finalAnswerPrefix,
    max_answer_tokens: settings.maxAnswerTokens,
  };
  const sampling: Sampling = { temperature: settings.temperature };
  if (settings.topP !== SAMPLING_DEFAULTS.top_p) sampling.top_p = settings.topP;
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
    format: typeof format === "string" ? format : custom ? "custom" : DEFAULT_SETTINGS.format,
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
