/**
 * The settings of one run's thinking: budget forcing (`budget_forcing`) and
 * sampling. Their schemas, defaults and caps, the rules a valid setting
 * follows (each problem named by its field), and how budgets left out are
 * fitted to a model's context. The engine, the API, the CLI, experiments and
 * the page all read them here, so a new setting is one edit in this file
 * plus its use in the engine (docs/engine.md states the semantics).
 */
import { Type, type Static } from "typebox";

const Count = Type.Integer({ minimum: 0 });
const NonEmptyText = Type.String({ minLength: 1 });
/** Enough for every variant of a few words; each is a ban rule evaluated at every step. */
const MAX_SUPPRESSED_WORDS = 64;

/** A format of one's own: the delimiters a model uses, and what a forced close appends. */
export const CustomFormatSchema = Type.Object(
  {
    start: NonEmptyText,
    end: Type.Union([NonEmptyText, Type.Array(NonEmptyText, { minItems: 1 })]),
    forced_end: Type.Optional(Type.String()),
    end_token_ids: Type.Optional(Type.Array(Count)),
  },
  { additionalProperties: false },
);
export type CustomFormat = Static<typeof CustomFormatSchema>;

/**
 * `think-tags` (`<think>` … `</think>`), `s1` (`<|im_start|>think` …
 * `<|im_start|>answer`), `harmony` (gpt-oss: the `analysis` channel is the
 * thinking, the `final` channel the answer), or a custom format.
 */
export const FormatSchema = Type.Union([
  Type.Literal("think-tags"),
  Type.Literal("s1"),
  Type.Literal("harmony"),
  CustomFormatSchema,
]);
export type FormatInput = Static<typeof FormatSchema>;

/** One string, or a list rotated over the waits (the paper's cure for repetitive loops). */
export const WaitStringSchema = Type.Union([
  NonEmptyText,
  Type.Array(NonEmptyText, { minItems: 1 }),
]);

/**
 * The loop breaker: when the last `window × repeats` thinking tokens are one
 * span of at most `window` tokens said `repeats` times over, the close is
 * forced (reason `loop`). Absent: off.
 */
export const LoopGuardSchema = Type.Object(
  {
    window: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
    repeats: Type.Optional(Type.Integer({ minimum: 2, maximum: 64 })),
  },
  { additionalProperties: false },
);
export type LoopGuard = Static<typeof LoopGuardSchema>;

/** What a `loop_guard` uses for a field it leaves out. */
export const LOOP_GUARD_DEFAULTS = {
  window: 64,
  repeats: 3,
} as const satisfies Required<LoopGuard>;

/**
 * Early exit on a stable answer (Dynasor-CoT, DEER): every `probe_every`
 * thinking tokens, and whenever the model tries to close, a probe asks for
 * the answer from the thinking so far (the close, `probe_lead_in`, at most
 * `probe_tokens` tokens) without adding it to the trace. When `stable`
 * probes in a row give the same answer, the close is forced (reason
 * `stable_answer`). Absent: off.
 */
export const EarlyExitSchema = Type.Object(
  {
    probe_every: Type.Optional(Type.Integer({ minimum: 1 })),
    stable: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
    probe_tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
  },
  { additionalProperties: false },
);
export type EarlyExit = Static<typeof EarlyExitSchema>;
export const EARLY_EXIT_DEFAULTS = {
  probe_every: 64,
  stable: 2,
  probe_tokens: 16,
} as const satisfies Required<EarlyExit>;

/**
 * Elimination: when the model tries to close, a probe reads its answer A;
 * instead of closing, `text` with `{answer}` replaced by A is injected and
 * the thinking goes on, up to `attempts` times. With `verifier: "reference"`
 * (experiments, where the reference answer is known) a right A is accepted
 * at once; with `"none"` every attempt is eliminated. Absent: off.
 */
export const EliminateSchema = Type.Object(
  {
    attempts: Type.Optional(Type.Integer({ minimum: 0, maximum: 64 })),
    verifier: Type.Optional(Type.Union([Type.Literal("none"), Type.Literal("reference")])),
    text: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);
export type Eliminate = Static<typeof EliminateSchema>;
export const ELIMINATE_DEFAULTS = {
  attempts: 1,
  verifier: "none",
  text: "Wait, the answer is not {answer}.",
} as const satisfies Required<Eliminate>;

/** The `budget_forcing` request field. Every field is optional; `BUDGET_DEFAULTS` fills them. */
export const BudgetForcingSchema = Type.Object(
  {
    format: Type.Optional(FormatSchema),
    max_thinking_tokens: Type.Optional(Count),
    min_thinking_tokens: Type.Optional(Count),
    num_waits: Type.Optional(Count),
    wait_string: Type.Optional(WaitStringSchema),
    final_answer_prefix: Type.Optional(Type.String()),
    max_answer_tokens: Type.Optional(Count),
    /** Hard cap on extensions per run, so a model that ends at once every time cannot loop forever. */
    max_extensions: Type.Optional(Count),
    /**
     * Text injected into the thinking just before a forced close (llama.cpp's
     * `--reasoning-budget-message`), so the model knows why it must answer now.
     */
    budget_message: Type.Optional(Type.String()),
    /**
     * Past `max_thinking_tokens`, the model may go on this many tokens to
     * finish its sentence or line; the close is forced at the first sentence
     * or line end, or when the grace runs out.
     */
    grace_tokens: Type.Optional(Count),
    /**
     * Words the model cannot write while it thinks (NoWait: `["Wait", "Hmm",
     * "Alternatively"]`), each also with a leading space. Applied by the
     * backend's own mechanism (token bias, vLLM `bad_words`, llama.cpp
     * `logit_bias`); a backend without one refuses the run.
     */
    suppress: Type.Optional(Type.Array(NonEmptyText, { maxItems: MAX_SUPPRESSED_WORDS })),
    loop_guard: Type.Optional(LoopGuardSchema),
    early_exit: Type.Optional(EarlyExitSchema),
    eliminate: Type.Optional(EliminateSchema),
    /**
     * What a probe (`early_exit`, `eliminate`) appends after the close to
     * ask for the answer; the answer is read up to the closing brace.
     */
    probe_lead_in: Type.Optional(NonEmptyText),
  },
  { additionalProperties: false },
);
export type BudgetForcing = Static<typeof BudgetForcingSchema>;

export const SamplingSchema = Type.Object(
  {
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 5 })),
    top_p: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    top_k: Type.Optional(Type.Integer({ minimum: 0 })),
    seed: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);
export type Sampling = Static<typeof SamplingSchema>;

/** Methods a request turns on by giving them; left out, they are off, and have no default. */
type MethodField = "loop_guard" | "early_exit" | "eliminate";

/** What a run uses for every field its request leaves out (a method left out is off). */
export const BUDGET_DEFAULTS = {
  format: "think-tags",
  max_thinking_tokens: 2048,
  min_thinking_tokens: 0,
  num_waits: 0,
  wait_string: "Wait",
  final_answer_prefix: "Final Answer:",
  max_answer_tokens: 1024,
  max_extensions: 64,
  budget_message: "",
  grace_tokens: 0,
  suppress: [] as string[],
  probe_lead_in: "The answer is \\boxed{",
} as const satisfies Required<Omit<BudgetForcing, MethodField>>;

/** 0 decodes greedily, as the s1 paper does. */
export const SAMPLING_DEFAULTS = { temperature: 0, top_p: 1 } as const;

/** A setting that cannot be used, named by its field (`num_waits`, `top_p`). */
export interface SettingProblem {
  field: string;
  /** The API's error code (`invalid_budget`, `invalid_format`, ...). */
  code: string;
  message: string;
}

function countProblem(field: string, value: unknown): SettingProblem | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return null;
  return {
    field,
    code: "invalid_budget",
    message: `${field} must be a whole number of tokens, 0 or more (got ${JSON.stringify(value)}).`,
  };
}

function formatProblem(input: unknown): SettingProblem | null {
  const problem = (message: string): SettingProblem => ({
    field: "format",
    code: "invalid_format",
    message,
  });
  if (input === undefined || input === "think-tags" || input === "s1" || input === "harmony")
    return null;
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return problem(
      `Unknown format ${JSON.stringify(input)}: use "think-tags", "s1", "harmony", or { "start", "end", "forced_end" }.`,
    );
  }
  const custom = input as Record<string, unknown>;
  const ends = Array.isArray(custom.end) ? custom.end : [custom.end];
  if (typeof custom.start !== "string" || custom.start === "") {
    return problem("A custom format needs a non-empty `start` string.");
  }
  if (ends.length === 0 || !ends.every((end) => typeof end === "string" && end !== "")) {
    return problem(
      "A custom format needs an `end` delimiter: a non-empty string or a list of them.",
    );
  }
  if (custom.forced_end !== undefined && typeof custom.forced_end !== "string") {
    return problem("`forced_end` must be a string.");
  }
  const ids = custom.end_token_ids;
  if (
    ids !== undefined &&
    !(Array.isArray(ids) && ids.every((id) => Number.isInteger(id) && id >= 0))
  ) {
    return problem("`end_token_ids` must be a list of token ids.");
  }
  return null;
}

function waitStringProblem(input: unknown): SettingProblem | null {
  if (input === undefined) return null;
  const list = Array.isArray(input) ? input : [input];
  if (list.length > 0 && list.every((item) => typeof item === "string" && item !== "")) return null;
  return {
    field: "wait_string",
    code: "invalid_wait_string",
    message: "wait_string must be a non-empty string or a non-empty list of non-empty strings.",
  };
}

/**
 * Everything wrong with a `budget_forcing` value, field by field, then the
 * rules between fields (`min_thinking_tokens` <= `max_thinking_tokens`,
 * `num_waits` <= `max_extensions`, defaults counted for fields left out).
 * Empty when it can be used. Takes any value, so it also guards callers that
 * did not validate against the schema (the CLI, the engine's own tests).
 */
export function budgetProblems(input: BudgetForcing): SettingProblem[] {
  const budget = input as Record<string, unknown>;
  const problems = [
    formatProblem(budget.format),
    countProblem("max_thinking_tokens", budget.max_thinking_tokens),
    countProblem("min_thinking_tokens", budget.min_thinking_tokens),
    countProblem("num_waits", budget.num_waits),
    waitStringProblem(budget.wait_string),
    countProblem("max_answer_tokens", budget.max_answer_tokens),
    countProblem("max_extensions", budget.max_extensions),
    countProblem("grace_tokens", budget.grace_tokens),
  ].filter((problem): problem is SettingProblem => problem !== null);
  if (budget.final_answer_prefix !== undefined && typeof budget.final_answer_prefix !== "string") {
    problems.push({
      field: "final_answer_prefix",
      code: "invalid_budget",
      message: "final_answer_prefix must be a string.",
    });
  }
  if (budget.budget_message !== undefined && typeof budget.budget_message !== "string") {
    problems.push({
      field: "budget_message",
      code: "invalid_budget",
      message: "budget_message must be a string.",
    });
  }
  const suppress = budget.suppress;
  if (
    suppress !== undefined &&
    !(
      Array.isArray(suppress) &&
      suppress.length <= MAX_SUPPRESSED_WORDS &&
      suppress.every((word) => typeof word === "string" && word.trim() !== "")
    )
  ) {
    problems.push({
      field: "suppress",
      code: "invalid_budget",
      message: `suppress must be a list of at most ${MAX_SUPPRESSED_WORDS} words, none empty.`,
    });
  }
  const loop = loopGuardProblem(budget.loop_guard);
  if (loop) problems.push(loop);
  problems.push(...earlyExitProblems(budget.early_exit), ...eliminateProblems(budget.eliminate));
  if (
    budget.probe_lead_in !== undefined &&
    (typeof budget.probe_lead_in !== "string" || budget.probe_lead_in === "")
  ) {
    problems.push({
      field: "probe_lead_in",
      code: "invalid_budget",
      message: "probe_lead_in must be a non-empty string.",
    });
  }
  if (problems.length > 0) return problems;
  const resolved = { ...BUDGET_DEFAULTS, ...withoutUndefined(input) };
  if (resolved.min_thinking_tokens > resolved.max_thinking_tokens) {
    problems.push({
      field: "min_thinking_tokens",
      code: "invalid_budget",
      message: `min_thinking_tokens (${resolved.min_thinking_tokens}) is above max_thinking_tokens (${resolved.max_thinking_tokens}).`,
    });
  }
  if (resolved.num_waits > resolved.max_extensions) {
    problems.push({
      field: "num_waits",
      code: "invalid_budget",
      message: `num_waits (${resolved.num_waits}) is above the cap on extensions per run (${resolved.max_extensions}).`,
    });
  }
  return problems;
}

function loopGuardProblem(input: unknown): SettingProblem | null {
  if (input === undefined) return null;
  const problem = (message: string): SettingProblem => ({
    field: "loop_guard",
    code: "invalid_budget",
    message,
  });
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return problem('loop_guard must be an object: { "window": tokens, "repeats": times }.');
  }
  const { window, repeats, ...rest } = input as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) return problem(`loop_guard has no field ${unknown.join(", ")}.`);
  if (
    window !== undefined &&
    !(Number.isInteger(window) && (window as number) >= 1 && (window as number) <= 1024)
  ) {
    return problem("loop_guard.window must be a whole number of tokens from 1 to 1024.");
  }
  if (
    repeats !== undefined &&
    !(Number.isInteger(repeats) && (repeats as number) >= 2 && (repeats as number) <= 64)
  ) {
    return problem("loop_guard.repeats must be a whole number from 2 to 64.");
  }
  return null;
}

function methodObject(field: string, input: unknown, fields: readonly string[]): SettingProblem[] {
  const problem = (message: string) => ({ field, code: "invalid_budget", message });
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return [problem(`${field} must be an object with ${fields.join(", ")}.`)];
  }
  const unknown = Object.keys(input).filter((key) => !fields.includes(key));
  return unknown.length > 0 ? [problem(`${field} has no field ${unknown.join(", ")}.`)] : [];
}

function integerProblem(
  field: string,
  value: unknown,
  min: number,
  max: number,
): SettingProblem | null {
  if (value === undefined) return null;
  if (Number.isInteger(value) && (value as number) >= min && (value as number) <= max) return null;
  return {
    field,
    code: "invalid_budget",
    message: `${field} must be a whole number from ${min} to ${max}.`,
  };
}

function earlyExitProblems(input: unknown): SettingProblem[] {
  if (input === undefined) return [];
  const shape = methodObject("early_exit", input, ["probe_every", "stable", "probe_tokens"]);
  if (shape.length > 0) return shape;
  const exit = input as Record<string, unknown>;
  return [
    integerProblem("early_exit.probe_every", exit.probe_every, 1, Number.MAX_SAFE_INTEGER),
    integerProblem("early_exit.stable", exit.stable, 1, 64),
    integerProblem("early_exit.probe_tokens", exit.probe_tokens, 1, 256),
  ].filter((problem): problem is SettingProblem => problem !== null);
}

function eliminateProblems(input: unknown): SettingProblem[] {
  if (input === undefined) return [];
  const shape = methodObject("eliminate", input, ["attempts", "verifier", "text"]);
  if (shape.length > 0) return shape;
  const eliminate = input as Record<string, unknown>;
  const problems = [integerProblem("eliminate.attempts", eliminate.attempts, 0, 64)].filter(
    (problem): problem is SettingProblem => problem !== null,
  );
  const { verifier, text } = eliminate;
  if (verifier !== undefined && verifier !== "none" && verifier !== "reference") {
    problems.push({
      field: "eliminate.verifier",
      code: "invalid_budget",
      message: 'eliminate.verifier must be "none" or "reference".',
    });
  }
  if (text !== undefined && !(typeof text === "string" && text.includes("{answer}"))) {
    problems.push({
      field: "eliminate.text",
      code: "invalid_budget",
      message:
        "eliminate.text must be a string holding {answer}, where the eliminated answer goes.",
    });
  }
  return problems;
}

/** Everything wrong with a sampling value, field by field. */
export function samplingProblems(input: Sampling): SettingProblem[] {
  const sampling = input as Record<string, unknown>;
  const problems: SettingProblem[] = [];
  const problem = (field: string, message: string) =>
    problems.push({ field, code: "invalid_sampling", message });
  const { temperature, top_p: topP, top_k: topK, seed } = sampling;
  if (
    temperature !== undefined &&
    !(typeof temperature === "number" && temperature >= 0 && temperature <= 5)
  ) {
    problem("temperature", "temperature must be a number from 0 to 5.");
  }
  if (topP !== undefined && !(typeof topP === "number" && topP > 0 && topP <= 1)) {
    problem("top_p", "top_p must be above 0 and at most 1.");
  }
  if (topK !== undefined && !(typeof topK === "number" && Number.isInteger(topK) && topK >= 0)) {
    problem("top_k", "top_k must be a whole number, 0 or more.");
  }
  if (seed !== undefined && !Number.isInteger(seed)) problem("seed", "seed must be an integer.");
  return problems;
}

/** What the model must hold besides the prompt: the budgets a run may use. */
export interface ContextRoom {
  /** The model's context length in tokens; unknown for some text-only backends. */
  contextLength?: number;
  /** Tokens of the prompt as rendered (chat template included). */
  promptTokens: number;
  /** The most a close takes (the forced one: its delimiter and the answer's lead-in). */
  closeTokens?: number;
  /**
   * A cap on thinking plus answer together (OpenAI's `max_completion_tokens`,
   * which for reasoning models includes the reasoning). The close a run
   * injects is not counted: it is in neither the thinking nor the answer.
   */
  completionCap?: number;
  /**
   * A thinking budget left out takes all the room the answer leaves instead
   * of the default (a plain API request: the model thinks as long as it
   * would on its own server, up to the context).
   */
  fillThinking?: boolean;
  /** Budgets left out go no higher than these, filled or not (an operator's caps). */
  ceilings?: BudgetCeilings;
}

/** Ceilings on the two budgets fitting sizes. */
export type BudgetCeilings = Partial<
  Pick<Required<BudgetForcing>, "max_thinking_tokens" | "max_answer_tokens">
>;

/** A budget left out before it is fitted: its default (or the room, filling), under its ceiling. */
export function unfittedBudget(
  field: keyof BudgetCeilings,
  ceilings: BudgetCeilings | undefined,
  fillTo?: number,
): number {
  const start = fillTo ?? BUDGET_DEFAULTS[field];
  return Math.min(start, ceilings?.[field] ?? Infinity);
}

/** The room for thinking plus answer: what the context leaves after the prompt and a close, and the cap. */
function roomFor({ contextLength, promptTokens, closeTokens = 0, completionCap }: ContextRoom) {
  const context =
    contextLength === undefined ? Infinity : contextLength - promptTokens - closeTokens;
  return Math.min(context, completionCap ?? Infinity);
}

/**
 * The budgets a run uses on a model with this context: budgets the request
 * gives are kept as they are (if they do not fit, the run is refused, never
 * quietly shortened); a budget it leaves out takes its default only if the
 * default fits in what the prompt and the close leave of the context (and
 * under the completion cap), and is otherwise sized to it: the answer an
 * eighth of the room (at least one token, or what the given thinking budget leaves), the
 * thinking the rest. The engine, the API and the page all call this one
 * function, so they choose the same budgets.
 */
export function fitToContext(
  budget: BudgetForcing,
  context: ContextRoom,
): { max_thinking_tokens: number; max_answer_tokens: number } {
  const thinkingGiven = budget.max_thinking_tokens !== undefined;
  const answerGiven = budget.max_answer_tokens !== undefined;
  const room = roomFor(context);
  const fill = context.fillThinking === true && Number.isFinite(room);
  const { ceilings } = context;
  let thinking =
    budget.max_thinking_tokens ??
    unfittedBudget("max_thinking_tokens", ceilings, fill ? room : undefined);
  let answer = budget.max_answer_tokens ?? unfittedBudget("max_answer_tokens", ceilings);
  if (thinking + answer <= room)
    return { max_thinking_tokens: thinking, max_answer_tokens: answer };
  if (!answerGiven) {
    // At least one token of answer, so a small cap still gets one (not a silent empty answer).
    const left = thinkingGiven ? room - thinking : Math.max(1, Math.floor(room / 8));
    answer = Math.max(0, Math.min(answer, left));
  }
  if (!thinkingGiven) {
    const min = budget.min_thinking_tokens ?? BUDGET_DEFAULTS.min_thinking_tokens;
    thinking = Math.max(min, Math.min(thinking, room - answer));
  }
  return { max_thinking_tokens: thinking, max_answer_tokens: answer };
}

/**
 * Whether a prompt and the budgets (fitted by `fitToContext`) fit a model's
 * context and the completion cap, counted in full: the prompt as rendered,
 * the thinking budget, the close and the answer budget. The problem names
 * each part and is said at the setting to lower. The engine refuses a run
 * with it before anything is generated; the page shows it before the run is
 * sent.
 */
export function contextProblem(budget: BudgetForcing, context: ContextRoom): SettingProblem | null {
  const { contextLength, promptTokens, closeTokens = 0, completionCap } = context;
  if (contextLength !== undefined && promptTokens + closeTokens >= contextLength) {
    return {
      field: "prompt",
      code: "prompt_too_long",
      message: `The prompt has ${promptTokens} tokens; the model's context holds ${contextLength}.`,
    };
  }
  const fitted = fitToContext(budget, context);
  const onlyAnswerGiven =
    budget.max_thinking_tokens === undefined && budget.max_answer_tokens !== undefined;
  const budgetField = onlyAnswerGiven ? "max_answer_tokens" : "max_thinking_tokens";
  const completion = fitted.max_thinking_tokens + fitted.max_answer_tokens;
  if (completionCap !== undefined) {
    const noAnswerLeft = budget.max_answer_tokens === undefined && fitted.max_answer_tokens === 0;
    if (completion > completionCap || (noAnswerLeft && completionCap > 0)) {
      return {
        field: "max_completion_tokens",
        code: "budget_exceeds_completion_cap",
        message:
          `max_completion_tokens (${completionCap}) caps thinking plus answer together; ` +
          `max_thinking_tokens (${fitted.max_thinking_tokens}) plus max_answer_tokens ` +
          `(${fitted.max_answer_tokens}) ${noAnswerLeft ? "leaves no tokens for the answer" : `is ${completion}`}. ` +
          "Raise the cap or lower the budgets.",
      };
    }
  }
  if (contextLength === undefined) return null;
  const total = promptTokens + completion + closeTokens;
  if (total <= contextLength) return null;
  return {
    field: budgetField,
    code: "budget_exceeds_context",
    message:
      `The prompt (${promptTokens} tokens) plus max_thinking_tokens (${fitted.max_thinking_tokens}), ` +
      `the close (up to ${closeTokens}) and max_answer_tokens (${fitted.max_answer_tokens}) need ` +
      `${total} tokens; the model's context holds ${contextLength}. Lower ${budgetField}.`,
  };
}

/**
 * OpenAI's `reasoning_effort` as a thinking budget: a share of the model's
 * context (docs/api.md has the table), or a fixed budget when the context is
 * unknown. `none` turns thinking off: the close is forced at once.
 */
export const REASONING_EFFORTS = {
  none: { share: 0, tokens: 0 },
  minimal: { share: 1 / 32, tokens: 512 },
  low: { share: 1 / 8, tokens: 2_048 },
  medium: { share: 1 / 4, tokens: 8_192 },
  high: { share: 1 / 2, tokens: 16_384 },
} as const;
export type ReasoningEffort = keyof typeof REASONING_EFFORTS;

export function isReasoningEffort(value: unknown): value is ReasoningEffort {
  return typeof value === "string" && Object.hasOwn(REASONING_EFFORTS, value);
}

/** The thinking budget an effort stands for on a model with this context. */
export function effortThinkingBudget(effort: ReasoningEffort, contextLength?: number): number {
  const { share, tokens } = REASONING_EFFORTS[effort];
  return contextLength === undefined ? tokens : Math.floor(contextLength * share);
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, field]) => field !== undefined),
  ) as Partial<T>;
}
