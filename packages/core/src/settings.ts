import type { SamplingSettings } from "./backend.ts";
import { InvalidRequestError } from "./errors.ts";
import { resolveFormat, type FormatInput, type ThinkingFormat } from "./formats.ts";

/**
 * Budget-forcing settings as the API (`budget_forcing`), the CLI and the page
 * give them: snake_case, every field optional.
 */
export interface BudgetForcingInput {
  format?: FormatInput;
  max_thinking_tokens?: number;
  min_thinking_tokens?: number;
  num_waits?: number;
  wait_string?: string | string[];
  final_answer_prefix?: string;
  max_answer_tokens?: number;
  /** Hard cap on extensions per run, so a model that ends at once every time cannot loop forever. */
  max_extensions?: number;
}

export interface ResolvedSettings {
  format: ThinkingFormat;
  maxThinkingTokens: number;
  minThinkingTokens: number;
  numWaits: number;
  waitStrings: string[];
  finalAnswerPrefix: string;
  maxAnswerTokens: number;
  maxExtensions: number;
  sampling: SamplingSettings;
}

export const DEFAULTS = {
  format: "think-tags",
  max_thinking_tokens: 2048,
  min_thinking_tokens: 0,
  num_waits: 0,
  wait_string: "Wait",
  final_answer_prefix: "Final Answer:",
  max_answer_tokens: 1024,
  max_extensions: 64,
} as const satisfies Required<BudgetForcingInput>;

function count(name: string, value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new InvalidRequestError(
      "invalid_budget",
      `${name} must be a whole number of tokens, 0 or more (got ${JSON.stringify(value)}).`,
    );
  }
  return value;
}

function formatOf(input: unknown): ThinkingFormat {
  if (input === undefined) return resolveFormat(DEFAULTS.format);
  if (input === "think-tags" || input === "s1") return resolveFormat(input);
  if (typeof input === "object" && input !== null) {
    const custom = input as Record<string, unknown>;
    const ends = Array.isArray(custom.end) ? custom.end : [custom.end];
    if (typeof custom.start !== "string" || custom.start === "") {
      throw new InvalidRequestError(
        "invalid_format",
        "A custom format needs a non-empty `start` string.",
      );
    }
    if (ends.length === 0 || !ends.every((end) => typeof end === "string" && end !== "")) {
      throw new InvalidRequestError(
        "invalid_format",
        "A custom format needs an `end` delimiter: a non-empty string or a list of them.",
      );
    }
    if (custom.forced_end !== undefined && typeof custom.forced_end !== "string") {
      throw new InvalidRequestError("invalid_format", "`forced_end` must be a string.");
    }
    const ids = custom.end_token_ids;
    if (
      ids !== undefined &&
      !(Array.isArray(ids) && ids.every((id) => Number.isInteger(id) && id >= 0))
    ) {
      throw new InvalidRequestError(
        "invalid_format",
        "`end_token_ids` must be a list of token ids.",
      );
    }
    return resolveFormat(custom as FormatInput);
  }
  throw new InvalidRequestError(
    "invalid_format",
    `Unknown format ${JSON.stringify(input)}: use "think-tags", "s1", or { "start", "end", "forced_end" }.`,
  );
}

function waitStringsOf(input: unknown): string[] {
  const list =
    input === undefined ? [DEFAULTS.wait_string] : Array.isArray(input) ? input : [input];
  if (list.length === 0 || !list.every((item) => typeof item === "string" && item !== "")) {
    throw new InvalidRequestError(
      "invalid_wait_string",
      "wait_string must be a non-empty string or a non-empty list of non-empty strings.",
    );
  }
  return list as string[];
}

function samplingOf(input: Partial<SamplingSettings>): SamplingSettings {
  const temperature = input.temperature ?? 0;
  if (typeof temperature !== "number" || !(temperature >= 0) || temperature > 5) {
    throw new InvalidRequestError("invalid_sampling", "temperature must be a number from 0 to 5.");
  }
  if (input.topP !== undefined && !(input.topP > 0 && input.topP <= 1)) {
    throw new InvalidRequestError("invalid_sampling", "top_p must be above 0 and at most 1.");
  }
  if (input.seed !== undefined && !Number.isInteger(input.seed)) {
    throw new InvalidRequestError("invalid_sampling", "seed must be an integer.");
  }
  const sampling: SamplingSettings = { temperature };
  if (input.topP !== undefined) sampling.topP = input.topP;
  if (input.topK !== undefined) sampling.topK = input.topK;
  if (input.seed !== undefined) sampling.seed = input.seed;
  return sampling;
}

/**
 * Validate and fill in defaults. Bad combinations are refused here, with a
 * clear message, before anything is generated.
 */
export function resolveSettings(
  input: BudgetForcingInput,
  sampling: Partial<SamplingSettings> = {},
  limits: { contextLength?: number; promptTokens?: number } = {},
): ResolvedSettings {
  const settings: ResolvedSettings = {
    format: formatOf(input.format),
    maxThinkingTokens: count(
      "max_thinking_tokens",
      input.max_thinking_tokens,
      DEFAULTS.max_thinking_tokens,
    ),
    minThinkingTokens: count(
      "min_thinking_tokens",
      input.min_thinking_tokens,
      DEFAULTS.min_thinking_tokens,
    ),
    numWaits: count("num_waits", input.num_waits, DEFAULTS.num_waits),
    waitStrings: waitStringsOf(input.wait_string),
    finalAnswerPrefix: input.final_answer_prefix ?? DEFAULTS.final_answer_prefix,
    maxAnswerTokens: count(
      "max_answer_tokens",
      input.max_answer_tokens,
      DEFAULTS.max_answer_tokens,
    ),
    maxExtensions: count("max_extensions", input.max_extensions, DEFAULTS.max_extensions),
    sampling: samplingOf(sampling),
  };
  if (typeof settings.finalAnswerPrefix !== "string") {
    throw new InvalidRequestError("invalid_budget", "final_answer_prefix must be a string.");
  }
  if (settings.minThinkingTokens > settings.maxThinkingTokens) {
    throw new InvalidRequestError(
      "invalid_budget",
      `min_thinking_tokens (${settings.minThinkingTokens}) is above max_thinking_tokens (${settings.maxThinkingTokens}).`,
    );
  }
  if (settings.numWaits > settings.maxExtensions) {
    throw new InvalidRequestError(
      "invalid_budget",
      `num_waits (${settings.numWaits}) is above the cap on extensions per run (${settings.maxExtensions}).`,
    );
  }
  const { contextLength, promptTokens = 0 } = limits;
  if (contextLength !== undefined) {
    const needed = promptTokens + settings.maxThinkingTokens + settings.maxAnswerTokens;
    if (promptTokens >= contextLength) {
      throw new InvalidRequestError(
        "prompt_too_long",
        `The prompt has ${promptTokens} tokens; the model's context holds ${contextLength}.`,
      );
    }
    if (needed > contextLength) fitDefaultsToContext(settings, input, contextLength - promptTokens);
    const fitted = promptTokens + settings.maxThinkingTokens + settings.maxAnswerTokens;
    if (fitted > contextLength) {
      throw new InvalidRequestError(
        "budget_exceeds_context",
        `The prompt (${promptTokens}) plus max_thinking_tokens (${settings.maxThinkingTokens}) plus ` +
          `max_answer_tokens (${settings.maxAnswerTokens}) is ${fitted} tokens; the model's context holds ` +
          `${contextLength}. Lower the budgets.`,
      );
    }
  }
  return settings;
}

/**
 * A budget the caller left out takes its default only if the default fits:
 * a small model (the bundled tiny reasoner holds 1,024 tokens) gets budgets
 * sized to what is left of its context after the prompt. A budget the caller
 * gave is never changed; if it does not fit, the request is refused.
 */
function fitDefaultsToContext(
  settings: ResolvedSettings,
  input: BudgetForcingInput,
  room: number,
): void {
  const answerGiven = input.max_answer_tokens !== undefined && input.max_answer_tokens !== null;
  const thinkingGiven =
    input.max_thinking_tokens !== undefined && input.max_thinking_tokens !== null;
  if (!answerGiven) {
    const left = thinkingGiven ? room - settings.maxThinkingTokens : Math.floor(room / 8);
    settings.maxAnswerTokens = Math.max(0, Math.min(settings.maxAnswerTokens, left));
  }
  if (!thinkingGiven) {
    settings.maxThinkingTokens = Math.max(
      settings.minThinkingTokens,
      Math.min(settings.maxThinkingTokens, room - settings.maxAnswerTokens),
    );
  }
}
