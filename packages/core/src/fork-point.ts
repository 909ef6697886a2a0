/**
 * Where a fork branches off its parent: the parent's events cut after `at`
 * continuation tokens (generated and injected, in the order its events
 * number them). The engine replays these to start from the parent's state
 * and re-sends their exact token ids.
 */
import type { DeltaEvent, EngineEvent, InjectionEvent, PhaseEvent } from "@thinkscope/protocol";
import { InvalidRequestError } from "./errors.ts";

/** An event a fork inherits from its parent. */
export type InheritedEvent = DeltaEvent | InjectionEvent | PhaseEvent;

/** What a run starts from when it continues another run instead of a prompt. */
export interface ForkStart {
  parentRunId: string;
  /** Continuation tokens of the parent kept (0 is right after the prompt). */
  at: number;
  /** The parent's events up to `at` (`cutAtToken`). */
  inherited: InheritedEvent[];
  /** Appended after them, as plain text (never parsed for control tokens). */
  insert: string;
}

/** Token ids to text, to cut a chunk of several tokens; absent when the backend cannot. */
export type Detokenize = (ids: number[]) => Promise<string>;

/** Continuation tokens in a run's events. */
export function continuationTokens(events: readonly EngineEvent[]): number {
  let count = 0;
  for (const event of events) {
    if (event.type === "delta" || event.type === "injection") count += event.tokens;
  }
  return count;
}

/**
 * The events of a run's first `at` continuation tokens. Events of no tokens
 * at the cut (the answer phase beginning after a close, text a detokenizer
 * held back) stay with what precedes them. A chunk of several tokens is cut
 * by its ids; an injection is never cut (the nearest points are named).
 */
export async function cutAtToken(
  events: readonly EngineEvent[],
  at: number,
  detokenize?: Detokenize,
): Promise<InheritedEvent[]> {
  const total = continuationTokens(events);
  if (!Number.isInteger(at) || at < 0 || at > total) {
    throw new InvalidRequestError(
      "invalid_fork",
      `fork.at must be a whole number from 0 to ${total} (the parent's continuation tokens), got ${at}.`,
    );
  }
  const kept: InheritedEvent[] = [];
  let count = 0;
  for (const event of events) {
    if (event.type !== "delta" && event.type !== "injection" && event.type !== "phase") continue;
    const tokens = event.type === "phase" ? 0 : event.tokens;
    if (count + tokens <= at) {
      kept.push(event);
      count += tokens;
      continue;
    }
    if (count < at)
      kept.push(
        await cutInside(event as DeltaEvent | InjectionEvent, at - count, count, detokenize),
      );
    break;
  }
  return kept;
}

async function cutInside(
  event: DeltaEvent | InjectionEvent,
  keep: number,
  start: number,
  detokenize: Detokenize | undefined,
): Promise<DeltaEvent> {
  const nearest = `the nearest points are ${start} and ${start + event.tokens}`;
  if (event.type === "injection") {
    throw new InvalidRequestError(
      "invalid_fork",
      `fork.at ${start + keep} falls inside the injected ${JSON.stringify(event.text)}; ${nearest}.`,
    );
  }
  const ids = event.tokenIds;
  if (!ids || ids.length !== event.tokens || !detokenize) {
    throw new InvalidRequestError(
      "invalid_fork",
      `fork.at ${start + keep} falls inside a chunk of ${event.tokens} tokens whose ids this backend cannot cut; ${nearest}.`,
    );
  }
  const keptIds = ids.slice(0, keep);
  const cut: DeltaEvent = {
    ...event,
    text: await detokenize(keptIds),
    tokenIds: keptIds,
    tokens: keep,
    phaseTokens: event.phaseTokens - (event.tokens - keep),
  };
  if (event.endProbabilities) cut.endProbabilities = event.endProbabilities.slice(0, keep);
  return cut;
}
