import { InvalidArgumentError, Option, type Command } from "commander";
import { resolveSettings } from "@thinkscope/core";
import type { FormatInput } from "@thinkscope/protocol";
import type { BudgetForcing, Sampling } from "@thinkscope/protocol";
import { toCoreSampling } from "../services/run-service.ts";

/** Options shared by `thinkscope run` and `thinkscope experiment`, with the same names as the API. */
export interface BudgetOptions {
  backend?: string;
  model?: string;
  format: string;
  thinkStart?: string;
  thinkEnd?: string;
  forcedEnd?: string;
  maxThinkingTokens?: number;
  minThinkingTokens?: number;
  numWaits?: number;
  waitString?: string[];
  finalAnswerPrefix?: string;
  maxAnswerTokens?: number;
  temperature?: number;
  topP?: number;
  seed?: number;
}

function wholeNumber(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed)) {
    throw new InvalidArgumentError("Expected a whole number of tokens (0 or more).");
  }
  return parsed;
}

function integer(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError("Expected an integer.");
  return Number(value);
}

function decimal(value: string): number {
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed))
    throw new InvalidArgumentError("Expected a number.");
  return parsed;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function addBudgetOptions(command: Command): Command {
  return command
    .option(
      "--backend <spec>",
      "backend: embedded, embedded:PATH_OR_URI, vllm:URL, llamacpp:URL, openai:URL, ollama:URL (default: THINKSCOPE_BACKEND or embedded)",
    )
    .option(
      "--model <name>",
      "model name sent upstream, or a GGUF path/URI for embedded (default: THINKSCOPE_MODEL)",
    )
    .addOption(
      new Option("--format <format>", "thinking format")
        .choices(["think-tags", "s1", "harmony", "custom"])
        .default("think-tags"),
    )
    .option("--think-start <text>", "custom format: the thinking start delimiter")
    .option("--think-end <text>", "custom format: the thinking end delimiter")
    .option("--forced-end <text>", "custom format: what a forced close appends")
    .option(
      "--max-thinking-tokens <n>",
      "hard cap on thinking tokens; reaching it forces the close",
      wholeNumber,
    )
    .option(
      "--min-thinking-tokens <n>",
      "an end attempt below this is replaced by a wait",
      wholeNumber,
    )
    .option(
      "--num-waits <n>",
      "ignore the end this many times, appending the wait string",
      wholeNumber,
    )
    .option(
      "--wait-string <text>",
      "appended on each extension (repeat to rotate several)",
      collect,
    )
    .option("--final-answer-prefix <text>", "appended after a forced close")
    .option("--max-answer-tokens <n>", "cap on the answer", wholeNumber)
    .option("--temperature <t>", "sampling temperature (0 = greedy, as in the s1 paper)", decimal)
    .option("--top-p <p>", "nucleus sampling", decimal)
    .option("--seed <n>", "sampling seed", integer);
}

function formatInput(options: BudgetOptions): FormatInput {
  if (options.format !== "custom") {
    if (options.thinkStart || options.thinkEnd || options.forcedEnd) {
      throw new InvalidArgumentError(
        "--think-start, --think-end and --forced-end need --format custom.",
      );
    }
    return options.format as FormatInput;
  }
  if (!options.thinkStart || !options.thinkEnd) {
    throw new InvalidArgumentError("--format custom needs --think-start and --think-end.");
  }
  return {
    start: options.thinkStart,
    end: options.thinkEnd,
    ...(options.forcedEnd !== undefined ? { forced_end: options.forcedEnd } : {}),
  };
}

/**
 * Turn CLI options into API-shaped settings and validate them, so bad
 * options fail before any model is loaded.
 */
export function budgetSettingsFrom(options: BudgetOptions): {
  budgetForcing: BudgetForcing;
  sampling: Sampling;
} {
  const budgetForcing: BudgetForcing = { format: formatInput(options) };
  if (options.maxThinkingTokens !== undefined)
    budgetForcing.max_thinking_tokens = options.maxThinkingTokens;
  if (options.minThinkingTokens !== undefined)
    budgetForcing.min_thinking_tokens = options.minThinkingTokens;
  if (options.numWaits !== undefined) budgetForcing.num_waits = options.numWaits;
  if (options.waitString !== undefined) budgetForcing.wait_string = options.waitString;
  if (options.finalAnswerPrefix !== undefined)
    budgetForcing.final_answer_prefix = options.finalAnswerPrefix;
  if (options.maxAnswerTokens !== undefined)
    budgetForcing.max_answer_tokens = options.maxAnswerTokens;
  const sampling: Sampling = {};
  if (options.temperature !== undefined) sampling.temperature = options.temperature;
  if (options.topP !== undefined) sampling.top_p = options.topP;
  if (options.seed !== undefined) sampling.seed = options.seed;
  resolveSettings(budgetForcing, toCoreSampling(sampling));
  return { budgetForcing, sampling };
}
