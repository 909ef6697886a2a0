/**
 * A fork's request as a run: it continues its parent, so it runs on the
 * parent's backend and model, from the parent's exact prompt, under the
 * parent's settings with whatever the request gives laid over them.
 */
import { InvalidRequestError, ThinkscopeError } from "@thinkscope/core";
import type { ChatMessage } from "@thinkscope/core";
import type { BudgetForcing, Fork, PromptMode, RunDetail, Sampling } from "@thinkscope/protocol";
import type { RunStore } from "../store/run-store.ts";

/** What of a run's input a fork reads and sets (a `RunInput`). */
interface ForkableInput {
  prompt?: string;
  messages?: ChatMessage[];
  mode: PromptMode;
  backend?: string;
  model?: string;
  budgetForcing?: BudgetForcing;
  sampling?: Sampling;
}

/** Where a fork starts, once its parent is found. */
export interface ForkOrigin {
  parent: RunDetail;
  at: number;
  insert: string;
}

export function resolveFork<T extends ForkableInput>(
  input: T,
  fork: Fork,
  store: RunStore,
): { input: T; origin: ForkOrigin } {
  if (input.prompt !== undefined || (input.messages?.length ?? 0) > 0) {
    throw new InvalidRequestError(
      "invalid_fork",
      "Give either a prompt (or messages) or fork, not both: a fork continues its parent's prompt.",
    );
  }
  const parent = store.get(fork.run_id);
  if (!parent) {
    throw new ThinkscopeError("run_not_found", `No run ${fork.run_id} to fork.`, { status: 404 });
  }
  if (input.backend !== undefined && input.backend !== parent.backend) {
    throw new InvalidRequestError(
      "invalid_fork",
      `A fork runs on its parent's backend (${parent.backend}), not ${input.backend}: its token ids are that model's.`,
    );
  }
  if (input.model !== undefined && parent.model !== null && input.model !== parent.model) {
    throw new InvalidRequestError(
      "invalid_fork",
      `A fork runs on its parent's model (${parent.model}), not ${input.model}: its token ids are that model's.`,
    );
  }
  const resolved: T = {
    ...input,
    prompt: parent.renderedPrompt,
    messages: undefined,
    mode: "raw",
    backend: parent.backend,
    budgetForcing: { ...parent.budgetForcing, ...input.budgetForcing },
    sampling: { ...parent.sampling, ...input.sampling },
  };
  if (parent.model !== null) resolved.model = parent.model;
  return { input: resolved, origin: { parent, at: fork.at, insert: fork.insert ?? "" } };
}
