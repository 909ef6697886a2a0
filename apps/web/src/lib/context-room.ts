/**
 * Whether a request's budgets fit the model's context, decided as the
 * engine decides it (packages/core/src/settings.ts, `resolveSettings`): the
 * budgets are fitted by the protocol's `fitToContext`, then the prompt and
 * both budgets must fit in the context. The page checks it with the counts
 * of the last preview, so a run the server would refuse is refused, with the
 * reason, before it is sent.
 */
import {
  fitToContext,
  type BudgetForcing,
  type ContextRoom,
  type SettingProblem,
} from "@thinkscope/protocol";

export function contextProblem(budget: BudgetForcing, room: ContextRoom): SettingProblem | null {
  const { contextLength, promptTokens } = room;
  if (promptTokens >= contextLength) {
    return {
      field: "prompt",
      code: "prompt_too_long",
      message: `The prompt has ${promptTokens} tokens; the model's context holds ${contextLength}.`,
    };
  }
  const fitted = fitToContext(budget, room);
  const total = promptTokens + fitted.max_thinking_tokens + fitted.max_answer_tokens;
  if (total <= contextLength) return null;
  const onlyAnswerGiven =
    budget.max_thinking_tokens === undefined && budget.max_answer_tokens !== undefined;
  return {
    // Said at the budget the request gives, which is the one to lower.
    field: onlyAnswerGiven ? "max_answer_tokens" : "max_thinking_tokens",
    code: "budget_exceeds_context",
    message:
      `The prompt (${promptTokens}) plus max_thinking_tokens (${fitted.max_thinking_tokens}) plus ` +
      `max_answer_tokens (${fitted.max_answer_tokens}) is ${total} tokens; the model's context holds ` +
      `${contextLength}. Lower the budgets.`,
  };
}
