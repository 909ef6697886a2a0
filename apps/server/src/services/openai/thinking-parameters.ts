/**
 * What an OpenAI-style request asks of the thinking, in whichever server's
 * words it comes: Thinkscope's `budget_forcing`, vLLM's
 * `thinking_token_budget`, llama.cpp's `thinking_budget_tokens`,
 * `chat_template_kwargs.enable_thinking`, OpenAI's `reasoning_effort`,
 * OpenRouter's `reasoning`, Anthropic's `thinking`; and its token cap with
 * OpenAI's meaning (thinking plus answer). Each is honoured or refused by
 * name, never ignored (docs/api.md has the table).
 */
import { InvalidRequestError } from "@thinkscope/core";
import {
  effortThinkingBudget,
  isReasoningEffort,
  REASONING_EFFORTS,
  type BudgetForcing,
} from "@thinkscope/protocol";
import type { ChatCompletionRequest, CompletionRequest } from "../../schemas/openai.ts";

type OpenAIRequest = CompletionRequest | ChatCompletionRequest;

export interface ThinkingRequest {
  /** The budget the run uses: the request's `budget_forcing` with the other servers' fields mapped in. */
  budgetForcing: BudgetForcing;
  /** The cap on thinking plus answer (`max_completion_tokens`, or `max_tokens`). */
  maxCompletionTokens?: number;
  /**
   * The request sets a budget (`budget_forcing`, or another server's budget
   * or switch); without one the model thinks as long as it would on its own
   * server, up to the context and the cap.
   */
  budgeted: boolean;
  /** The request asks for thinking at all (a budget, or `enable_thinking: true`): the prompt opens it. */
  opensThinking: boolean;
  /** Each field mapped, as `thinking_token_budget=100 -> max_thinking_tokens=100`, for a response header. */
  applied: string[];
}

/** One field that sets the thinking budget, and the budget it stands for. */
interface BudgetSource {
  param: string;
  shown: string;
  tokens: number | null;
}

/**
 * The thinking a request asks for. `contextLength` scales `reasoning_effort`
 * to the model. Throws a 400 naming the field for a value it cannot honour
 * or two fields that ask for different budgets.
 */
export function thinkingRequest(body: OpenAIRequest, contextLength?: number): ThinkingRequest {
  const record = body as Record<string, unknown>;
  const sources = budgetSources(record, contextLength);
  const given = body.budget_forcing?.max_thinking_tokens;
  if (given !== undefined) {
    sources.unshift({
      param: "budget_forcing.max_thinking_tokens",
      shown: String(given),
      tokens: given,
    });
  }
  const budgeted = sources.filter((source) => source.tokens !== null);
  const [first] = budgeted;
  const disagreeing = budgeted.find((source) => source.tokens !== first?.tokens);
  if (first && disagreeing) {
    throw new InvalidRequestError(
      "conflicting_thinking_budgets",
      `${first.param} (${first.shown}: ${first.tokens} tokens) and ${disagreeing.param} ` +
        `(${disagreeing.shown}: ${disagreeing.tokens} tokens) ask for different thinking budgets; send one.`,
      disagreeing.param,
    );
  }
  const budgetForcing: BudgetForcing = { ...body.budget_forcing };
  const applied: string[] = [];
  if (first && given === undefined) {
    budgetForcing.max_thinking_tokens = first.tokens!;
    // A client written for another server wants the answer as the model writes it, without a lead-in.
    if (body.budget_forcing === undefined) budgetForcing.final_answer_prefix = "";
    for (const source of budgeted)
      applied.push(`${source.param}=${source.shown} -> max_thinking_tokens=${source.tokens}`);
  }
  const thinking: ThinkingRequest = {
    budgetForcing,
    budgeted: body.budget_forcing !== undefined || first !== undefined,
    opensThinking: body.budget_forcing !== undefined || sources.length > 0,
    applied,
  };
  const cap = completionCap(body);
  if (cap !== undefined) {
    thinking.maxCompletionTokens = cap.tokens;
    applied.push(`${cap.param}=${cap.tokens} -> thinking + answer <= ${cap.tokens}`);
  }
  return thinking;
}

/** OpenAI's meaning: for a reasoning model the cap covers the reasoning too. */
function completionCap(body: OpenAIRequest): { param: string; tokens: number } | undefined {
  const chatCap = "max_completion_tokens" in body ? body.max_completion_tokens : undefined;
  const cap =
    chatCap !== undefined && chatCap !== null
      ? { param: "max_completion_tokens", tokens: chatCap }
      : body.max_tokens !== undefined && body.max_tokens !== null
        ? { param: "max_tokens", tokens: body.max_tokens }
        : undefined;
  if (cap && cap.tokens < 1) {
    throw new InvalidRequestError(
      "invalid_budget",
      `${cap.param} must be at least 1 (got ${cap.tokens}).`,
      cap.param,
    );
  }
  return cap;
}

function budgetSources(record: Record<string, unknown>, contextLength?: number): BudgetSource[] {
  const sources: BudgetSource[] = [];
  const count = (param: string, value: unknown, unlimited?: number) => {
    if (value === undefined || value === null) return;
    if (value === unlimited) {
      sources.push({ param, shown: String(value), tokens: null });
      return;
    }
    if (!Number.isInteger(value) || (value as number) < 0) {
      throw new InvalidRequestError(
        "invalid_budget",
        `${param} must be a whole number of tokens, 0 or more (got ${JSON.stringify(value)}).`,
        param,
      );
    }
    sources.push({ param, shown: String(value), tokens: value as number });
  };
  const effort = (param: string, value: unknown) => {
    if (value === undefined || value === null) return;
    if (!isReasoningEffort(value)) {
      throw new InvalidRequestError(
        "invalid_reasoning_effort",
        `${param} must be one of ${Object.keys(REASONING_EFFORTS).join(", ")} (got ${JSON.stringify(value)}).`,
        param,
      );
    }
    sources.push({ param, shown: value, tokens: effortThinkingBudget(value, contextLength) });
  };
  const off = (param: string, shown: string) => sources.push({ param, shown, tokens: 0 });

  count("thinking_token_budget", record.thinking_token_budget);
  // llama.cpp's -1 means no limit.
  count("thinking_budget_tokens", record.thinking_budget_tokens, -1);
  effort("reasoning_effort", record.reasoning_effort);

  const kwargs = objectField(record, "chat_template_kwargs");
  if (kwargs) {
    for (const [key, value] of Object.entries(kwargs)) {
      const param = `chat_template_kwargs.${key}`;
      if (key === "enable_thinking" && typeof value === "boolean") {
        if (value) sources.push({ param, shown: "true", tokens: null });
        else off(param, "false");
      } else if (key === "thinking" && typeof value === "boolean") {
        // DeepSeek-V3.1's template names it `thinking`.
        if (value) sources.push({ param, shown: "true", tokens: null });
        else off(param, "false");
      } else {
        throw new InvalidRequestError(
          "unsupported_parameter",
          `${param} is not supported: of the chat template's arguments, Thinkscope honours enable_thinking (true or false).`,
          param,
        );
      }
    }
  }

  const reasoning = objectField(record, "reasoning");
  if (reasoning) {
    for (const [key, value] of Object.entries(reasoning)) {
      const param = `reasoning.${key}`;
      if (key === "effort") effort(param, value);
      else if (key === "max_tokens") count(param, value);
      else if (key === "enabled" && typeof value === "boolean") {
        if (value) sources.push({ param, shown: "true", tokens: null });
        else off(param, "false");
      } else if (key === "exclude" && value === false) continue;
      else {
        throw new InvalidRequestError(
          "unsupported_parameter",
          `${param} is not supported: Thinkscope honours reasoning.effort, reasoning.max_tokens and reasoning.enabled, and always returns the reasoning.`,
          param,
        );
      }
    }
  }

  const anthropic = objectField(record, "thinking");
  if (anthropic) {
    if (anthropic.type === "disabled") off("thinking.type", "disabled");
    else if (anthropic.type === "enabled") count("thinking.budget_tokens", anthropic.budget_tokens);
    else {
      throw new InvalidRequestError(
        "unsupported_parameter",
        `thinking.type must be "enabled" (with budget_tokens) or "disabled" (got ${JSON.stringify(anthropic.type)}).`,
        "thinking.type",
      );
    }
  }
  return sources;
}

function objectField(
  record: Record<string, unknown>,
  field: string,
): Record<string, unknown> | undefined {
  const value = record[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidRequestError("invalid_request", `${field} must be an object.`, field);
  }
  return value as Record<string, unknown>;
}
