import {
  BUDGET_DEFAULTS,
  budgetProblems,
  contextProblem,
  fitToContext,
  SAMPLING_DEFAULTS,
  samplingProblems,
  type BudgetForcing,
  type ContextRoom,
  type PromptMode,
  type RunSpec,
  type Sampling,
  type SettingProblem,
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

/**
 * A fresh panel: the protocol's defaults, which a link never repeats. A
 * token budget at its default is left out of the request, so the server
 * fits it to the model's context (`fitToContext`); the panel shows it fitted.
 */
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

/** A field of the request (`prompt`, `budget_forcing`, `sampling`), as problems are named. */
type SettingField = "prompt" | keyof BudgetForcing | keyof Sampling;

/**
 * The panel's control for each field, so a problem the protocol finds shows
 * beside what edits it. The page sends neither `max_extensions` nor `top_k`;
 * their entries only say where a problem with them would show.
 */
const CONTROL_OF: Record<SettingField, keyof PlaygroundSettings> = {
  prompt: "prompt",
  format: "format",
  max_thinking_tokens: "maxThinkingTokens",
  min_thinking_tokens: "minThinkingTokens",
  num_waits: "numWaits",
  wait_string: "waitStrings",
  final_answer_prefix: "finalAnswerPrefix",
  max_answer_tokens: "maxAnswerTokens",
  max_extensions: "numWaits",
  budget_message: "finalAnswerPrefix",
  grace_tokens: "maxThinkingTokens",
  suppress: "waitStrings",
  loop_guard: "maxThinkingTokens",
  early_exit: "maxThinkingTokens",
  eliminate: "numWaits",
  probe_lead_in: "finalAnswerPrefix",
  temperature: "temperature",
  top_p: "topP",
  top_k: "temperature",
  seed: "seed",
};

/**
 * The server's refusal of the panel's settings: a 400 from the preview of
 * `spec` (the request as JSON), which it stands for until the settings change.
 */
export interface Refusal {
  spec: string;
  code: string;
  message: string;
}

/** The field a refusal concerns, by its code; any other is said at the backend picker. */
const REFUSED_FIELD: Partial<Record<string, SettingField>> = {
  prompt_too_long: "prompt",
  budget_exceeds_context: "max_thinking_tokens",
};

/**
 * Everything wrong with a request, by field: an empty prompt, the
 * protocol's rules (the server's own), and, with the last preview's counts,
 * budgets that do not fit the model's context.
 */
export function runProblems(spec: RunSpec, room: ContextRoom | null): SettingProblem[] {
  const problems: SettingProblem[] = [];
  if (spec.prompt.trim() === "") {
    problems.push({ field: "prompt", code: "invalid_prompt", message: "Write a prompt to run." });
  }
  const { budget_forcing = {}, sampling = {} } = spec;
  const found = budgetProblems(budget_forcing);
  const fits = found.length === 0 && room ? contextProblem(budget_forcing, room) : null;
  return [...problems, ...found, ...(fits ? [fits] : []), ...samplingProblems(sampling)];
}

/**
 * What is wrong with the panel's settings, by control: the problems of the
 * request it would send, and the server's refusal of exactly that request.
 * Checked here so the Run button can say what is wrong before anything is sent.
 */
export function validateSettings(
  settings: PlaygroundSettings,
  room: ContextRoom | null = null,
  refusal: Refusal | null = null,
): SettingsProblems {
  const problems: SettingsProblems = {};
  const spec = toRunSpec(settings);
  for (const { field, message } of runProblems(spec, room)) {
    problems[CONTROL_OF[field as SettingField]] ??= message;
  }
  if (refusal && refusal.spec === JSON.stringify(spec)) {
    const field = REFUSED_FIELD[refusal.code];
    problems[field ? CONTROL_OF[field] : "backend"] ??= refusal.message;
  }
  return problems;
}

/**
 * The settings with their token budgets as a run would use them, which is
 * what the panel shows and presets act on: a budget the user set as set, one
 * left at its default fitted to the model's context with the last preview's
 * prompt tokens (the server's own rule on the same counts, so the same numbers).
 */
export function shownSettings(
  settings: PlaygroundSettings,
  room: ContextRoom | null,
): PlaygroundSettings {
  if (!room) return settings;
  const fitted = fitToContext(toRunSpec(settings).budget_forcing ?? {}, room);
  return {
    ...settings,
    maxThinkingTokens: fitted.max_thinking_tokens,
    maxAnswerTokens: fitted.max_answer_tokens,
  };
}

export function formatOf(settings: PlaygroundSettings): BudgetForcing["format"] {
  if (settings.format !== "custom") return settings.format;
  return {
    start: settings.customStart,
    end: settings.customEnd,
    ...(settings.customForcedEnd !== "" ? { forced_end: settings.customForcedEnd } : {}),
  };
}

/**
 * The wire request for these settings. Empty choices are left out so the
 * server's defaults apply, and so are token budgets at their defaults, so
 * the server fits them to the model's context.
 */
export function toRunSpec(settings: PlaygroundSettings): RunSpec {
  const budget: BudgetForcing = {
    format: formatOf(settings),
    min_thinking_tokens: settings.minThinkingTokens,
    num_waits: settings.numWaits,
    wait_string:
      settings.waitStrings.length === 1
        ? (settings.waitStrings[0] ?? BUDGET_DEFAULTS.wait_string)
        : [...settings.waitStrings],
    final_answer_prefix: settings.finalAnswerPrefix,
  };
  if (settings.maxThinkingTokens !== BUDGET_DEFAULTS.max_thinking_tokens) {
    budget.max_thinking_tokens = settings.maxThinkingTokens;
  }
  if (settings.maxAnswerTokens !== BUDGET_DEFAULTS.max_answer_tokens) {
    budget.max_answer_tokens = settings.maxAnswerTokens;
  }
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
