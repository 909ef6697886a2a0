/**
 * One run's settings as the engine uses them. What a valid setting is, the
 * defaults and how budgets fit a context are the protocol's (budget module);
 * here they are applied once per run: problems become a 400 before anything
 * is generated, defaults are filled, budgets fitted, formats resolved.
 */
import {
  BUDGET_DEFAULTS,
  LOOP_GUARD_DEFAULTS,
  EARLY_EXIT_DEFAULTS,
  ELIMINATE_DEFAULTS,
  budgetProblems,
  contextProblem,
  fitToContext,
  samplingProblems,
  unfittedBudget,
  type BudgetForcing,
  type ContextRoom,
  type ResolvedSettings,
  type SamplingSettings,
  type SettingProblem,
} from "@thinkscope/protocol";
import { InvalidRequestError } from "./errors.ts";
import { resolveFormat } from "./formats.ts";

/** What a run may hold besides its budgets: known once the prompt is tokenized. */
export type ContextLimits = Partial<ContextRoom>;

/**
 * Validates and fills in defaults; with `limits`, fits budgets left out to
 * the context and the completion cap, and refuses a prompt or budgets that
 * do not fit. Bad settings
 * are refused here, with a clear message, before anything is generated.
 */
export function resolveSettings(
  input: BudgetForcing,
  sampling: Partial<SamplingSettings> = {},
  limits: ContextLimits = {},
): ResolvedSettings {
  const [problem] = [
    ...budgetProblems(input).map(underBudgetForcing),
    ...samplingProblems({
      temperature: sampling.temperature,
      top_p: sampling.topP,
      top_k: sampling.topK,
      seed: sampling.seed,
    }),
  ];
  if (problem) throw new InvalidRequestError(problem.code, problem.message, problem.field);

  const budget = { ...input };
  if (limits.contextLength !== undefined || limits.completionCap !== undefined) {
    const room: ContextRoom = { ...limits, promptTokens: limits.promptTokens ?? 0 };
    const tooBig = contextProblem(input, room);
    if (tooBig) {
      const { code, message, field } = underBudgetForcing(tooBig);
      throw new InvalidRequestError(code, message, field);
    }
    Object.assign(budget, fitToContext(input, room));
  }
  const wait = budget.wait_string ?? BUDGET_DEFAULTS.wait_string;
  const settings: ResolvedSettings = {
    format: resolveFormat(budget.format ?? BUDGET_DEFAULTS.format),
    maxThinkingTokens:
      budget.max_thinking_tokens ?? unfittedBudget("max_thinking_tokens", limits.ceilings),
    minThinkingTokens: budget.min_thinking_tokens ?? BUDGET_DEFAULTS.min_thinking_tokens,
    numWaits: budget.num_waits ?? BUDGET_DEFAULTS.num_waits,
    waitStrings: Array.isArray(wait) ? [...wait] : [wait],
    finalAnswerPrefix: budget.final_answer_prefix ?? BUDGET_DEFAULTS.final_answer_prefix,
    maxAnswerTokens:
      budget.max_answer_tokens ?? unfittedBudget("max_answer_tokens", limits.ceilings),
    maxExtensions: budget.max_extensions ?? BUDGET_DEFAULTS.max_extensions,
    budgetMessage: budget.budget_message ?? BUDGET_DEFAULTS.budget_message,
    graceTokens: budget.grace_tokens ?? BUDGET_DEFAULTS.grace_tokens,
    suppress: [...(budget.suppress ?? BUDGET_DEFAULTS.suppress)],
    sampling: resolvedSampling(sampling),
  };
  if (budget.loop_guard) settings.loopGuard = { ...LOOP_GUARD_DEFAULTS, ...budget.loop_guard };
  if (budget.early_exit) {
    const exit = { ...EARLY_EXIT_DEFAULTS, ...budget.early_exit };
    settings.earlyExit = {
      probeEvery: exit.probe_every,
      stable: exit.stable,
      probeTokens: exit.probe_tokens,
    };
  }
  if (budget.eliminate) settings.eliminate = { ...ELIMINATE_DEFAULTS, ...budget.eliminate };
  if (budget.early_exit || budget.eliminate) {
    settings.probeLeadIn = budget.probe_lead_in ?? BUDGET_DEFAULTS.probe_lead_in;
  }
  return settings;
}

/** A budget field as the API names it; the prompt stays itself. */
function underBudgetForcing(problem: SettingProblem): SettingProblem {
  if (problem.field === "prompt" || problem.field === "max_completion_tokens") return problem;
  return { ...problem, field: `budget_forcing.${problem.field}` };
}

function resolvedSampling(input: Partial<SamplingSettings>): SamplingSettings {
  const sampling: SamplingSettings = { temperature: input.temperature ?? 0 };
  if (input.topP !== undefined) sampling.topP = input.topP;
  if (input.topK !== undefined) sampling.topK = input.topK;
  if (input.seed !== undefined) sampling.seed = input.seed;
  return sampling;
}
