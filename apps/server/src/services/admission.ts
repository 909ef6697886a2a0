/**
 * Operator limits every run passes before anything is prepared or stored
 * (RunService.start calls this; so do the OpenAI routes for plain requests):
 *
 * - budget caps (`THINKSCOPE_MAX_THINKING_TOKENS_CAP`, `..._ANSWER_...`,
 *   `THINKSCOPE_MAX_WAITS_CAP`): a request asking for more is refused with a
 *   400 naming the cap, never clamped behind its back. A field left out gets
 *   the engine's default, or the cap where that is lower, so a request that
 *   asks for nothing in particular still runs.
 * - concurrent runs per client (`THINKSCOPE_MAX_CONCURRENT_RUNS_PER_CLIENT`)
 *   and per client address over all its sessions
 *   (`THINKSCOPE_MAX_CONCURRENT_RUNS_PER_ADDRESS`, the same unless set): a
 *   slot of each is taken before the run is prepared and given back when it
 *   is stored; a run over either is refused with a 429 `too_many_runs`.
 */
import { InvalidRequestError, ThinkscopeError } from "@thinkscope/core";
import { BUDGET_DEFAULTS } from "@thinkscope/protocol";
import type { BudgetCeilings, BudgetForcing } from "@thinkscope/protocol";

export interface AdmissionLimits {
  maxConcurrentRunsPerClient?: number | undefined;
  maxConcurrentRunsPerAddress?: number | undefined;
  maxThinkingTokensCap?: number | undefined;
  maxAnswerTokensCap?: number | undefined;
  maxWaitsCap?: number | undefined;
}

/**
 * Whom a request's limits count against: its address (`ip:<address>`), and a
 * signed-in page's session (`session:<id>`). Both must have room.
 */
export interface ClientIdentity {
  address: string;
  session?: string;
}

/** Gives a taken slot back; calling it again does nothing. */
export type Release = () => void;

const NOTHING_TO_RELEASE: Release = () => {};

interface Cap {
  field: "max_thinking_tokens" | "max_answer_tokens" | "num_waits" | "max_extensions";
  limit: number | undefined;
  setting: string;
  hint?: string;
}

export class Admission {
  private readonly running = new Map<string, number>();

  constructor(private readonly limits: AdmissionLimits) {}

  /** Whether any budget cap is set. */
  get capsBudgets(): boolean {
    const { maxThinkingTokensCap, maxAnswerTokensCap, maxWaitsCap } = this.limits;
    return (
      maxThinkingTokensCap !== undefined ||
      maxAnswerTokensCap !== undefined ||
      maxWaitsCap !== undefined
    );
  }

  /** The caps on the budgets fitting sizes, for the budgets a request leaves out. */
  budgetCeilings(): BudgetCeilings | undefined {
    const { maxThinkingTokensCap, maxAnswerTokensCap } = this.limits;
    const ceilings: BudgetCeilings = {};
    if (maxThinkingTokensCap !== undefined) ceilings.max_thinking_tokens = maxThinkingTokensCap;
    if (maxAnswerTokensCap !== undefined) ceilings.max_answer_tokens = maxAnswerTokensCap;
    return Object.keys(ceilings).length > 0 ? ceilings : undefined;
  }

  /**
   * `budgetForcing` checked against the caps, with capped defaults filled in
   * for the wait counts left out (the budgets left out are held under
   * `budgetCeilings` when they are fitted). Throws a 400 `budget_above_cap`
   * naming the cap. Returns the input itself when no cap is set. Experiments
   * call this when one is created, so a grid above the caps is refused
   * before its first run.
   */
  checkBudgets(budgetForcing: BudgetForcing | undefined): BudgetForcing | undefined {
    if (!this.capsBudgets) return budgetForcing;
    const { maxThinkingTokensCap, maxAnswerTokensCap, maxWaitsCap } = this.limits;
    const checked: BudgetForcing = { ...budgetForcing };
    const caps: Cap[] = [
      {
        field: "max_thinking_tokens",
        limit: maxThinkingTokensCap,
        setting: "THINKSCOPE_MAX_THINKING_TOKENS_CAP",
      },
      {
        field: "max_answer_tokens",
        limit: maxAnswerTokensCap,
        setting: "THINKSCOPE_MAX_ANSWER_TOKENS_CAP",
      },
      { field: "num_waits", limit: maxWaitsCap, setting: "THINKSCOPE_MAX_WAITS_CAP" },
      { field: "max_extensions", limit: maxWaitsCap, setting: "THINKSCOPE_MAX_WAITS_CAP" },
    ];
    for (const { field, limit, setting, hint = "" } of caps) {
      if (limit === undefined) continue;
      const asked = checked[field];
      if (asked === undefined) {
        const fitted = field === "max_thinking_tokens" || field === "max_answer_tokens";
        if (!fitted && BUDGET_DEFAULTS[field] > limit) checked[field] = limit;
      } else if (asked > limit) {
        throw overCap(`${field} ${asked}${hint}`, limit, setting);
      }
    }
    const min = checked.min_thinking_tokens;
    if (maxThinkingTokensCap !== undefined && min !== undefined && min > maxThinkingTokensCap) {
      throw overCap(
        `min_thinking_tokens ${min}`,
        maxThinkingTokensCap,
        "THINKSCOPE_MAX_THINKING_TOKENS_CAP",
      );
    }
    return checked;
  }

  /**
   * A request without budget forcing (passed through, or one plain
   * generation) may generate at most the thinking cap plus the answer cap,
   * and must say how much it wants: upstream defaults range from 16 tokens
   * to the whole context, so an unstated `max_tokens` is refused rather than guessed.
   */
  checkPlainMaxTokens(maxTokens: number | null | undefined): void {
    const { maxThinkingTokensCap, maxAnswerTokensCap } = this.limits;
    if (maxThinkingTokensCap === undefined || maxAnswerTokensCap === undefined) return;
    const cap = maxThinkingTokensCap + maxAnswerTokensCap;
    const settings = "THINKSCOPE_MAX_THINKING_TOKENS_CAP + THINKSCOPE_MAX_ANSWER_TOKENS_CAP";
    if (maxTokens === undefined || maxTokens === null) {
      throw new InvalidRequestError(
        "max_tokens_required",
        `This server caps a request without budget_forcing at ${cap} tokens (${settings}): ` +
          `set max_tokens (or max_completion_tokens) to ${cap} or fewer.`,
      );
    }
    if (maxTokens > cap) throw overCap(`max_tokens ${maxTokens}`, cap, settings);
  }

  /**
   * Takes one run slot of `client`'s address and one of its session. Throws
   * a 429 `too_many_runs` when either has none left. Without a client (the
   * CLI, an experiment's own runs) or without the limits, nothing is counted.
   */
  acquire(client: ClientIdentity | undefined): Release {
    const perClient = this.limits.maxConcurrentRunsPerClient;
    const perAddress = this.limits.maxConcurrentRunsPerAddress ?? perClient;
    if (client === undefined) return NOTHING_TO_RELEASE;
    const slots: { key: string; limit: number; setting: string; whose: string }[] = [];
    if (perAddress !== undefined) {
      // An API client is its address: the per-client limit, unless the address has one of its own.
      const own = this.limits.maxConcurrentRunsPerAddress !== undefined;
      slots.push({
        key: client.address,
        limit: perAddress,
        setting: own
          ? "THINKSCOPE_MAX_CONCURRENT_RUNS_PER_ADDRESS"
          : "THINKSCOPE_MAX_CONCURRENT_RUNS_PER_CLIENT",
        whose: client.session === undefined ? "You already have" : "Your address has",
      });
    }
    if (perClient !== undefined && client.session !== undefined) {
      slots.push({
        key: client.session,
        limit: perClient,
        setting: "THINKSCOPE_MAX_CONCURRENT_RUNS_PER_CLIENT",
        whose: "You already have",
      });
    }
    for (const { key, limit, setting, whose } of slots) {
      const running = this.runningFor(key);
      if (running >= limit) {
        throw new ThinkscopeError(
          "too_many_runs",
          `${whose} ${running} ${running === 1 ? "run" : "runs"} going, the most this server ` +
            `allows at once (${setting}=${limit}). ` +
            "Wait for one to finish, or stop it, then try again.",
          { status: 429, retryable: true },
        );
      }
    }
    for (const { key } of slots) this.running.set(key, this.runningFor(key) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const { key } of slots) {
        const left = this.runningFor(key) - 1;
        if (left > 0) this.running.set(key, left);
        else this.running.delete(key);
      }
    };
  }

  /** Runs counted against `key` (an address or a session) starting or streaming now. */
  runningFor(key: string): number {
    return this.running.get(key) ?? 0;
  }
}

function overCap(asked: string, cap: number, setting: string): InvalidRequestError {
  return new InvalidRequestError(
    "budget_above_cap",
    `${asked} is above this server's cap of ${cap} (${setting}). Ask for ${cap} or fewer.`,
  );
}
