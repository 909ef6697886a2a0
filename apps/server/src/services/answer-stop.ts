import { DelimiterMatcher } from "@thinkscope/core";
import type { DeltaEvent, EngineEvent } from "@thinkscope/protocol";

/**
 * OpenAI's `stop` for a budget-forced run: strings that end the answer (they
 * never apply to the thinking). The engine knows nothing of them, so the run
 * is cut here: answer text is held back while it could still become a stop
 * string, the stop string itself is never emitted, and on a match `stopRun`
 * aborts the upstream. The run then finishes with reason `stop`.
 *
 * Token counts: tokens travel with the text that carried them, so a held-back
 * chunk's tokens are counted when its text is released, and the tokens of the
 * stop string itself are counted in the last delta (they were generated).
 */
export async function* stopAnswerAt(
  events: AsyncIterable<EngineEvent>,
  stops: readonly string[],
  stopRun: () => void,
): AsyncGenerator<EngineEvent> {
  if (stops.length === 0) {
    yield* events;
    return;
  }
  const matcher = new DelimiterMatcher(stops);
  let stopped = false;
  let answerTokens = 0;
  // Answer text not yet emitted, with the tokens and ids that came with it.
  let held = null as { tokens: number; ids: number[] | undefined; last: DeltaEvent } | null;
  // Characters fed to the matcher and released by it: a difference means text is held back.
  let pushed = 0;
  let emitted = 0;

  const release = (text: string, keepIds: boolean): DeltaEvent => {
    const { tokens, ids, last } = held!;
    held = null;
    answerTokens += tokens;
    const delta: DeltaEvent = { ...last, text, tokens, phaseTokens: answerTokens };
    delete delta.tokenIds;
    delete delta.endProbabilities;
    delete delta.entropies;
    if (keepIds && ids) delta.tokenIds = ids;
    return delta;
  };

  for await (const event of events) {
    if (stopped) {
      // Only the end of the run matters now; what came after the stop string is dropped.
      if (event.type === "run.finished") {
        yield {
          ...event,
          finishReason: event.finishReason === "aborted" ? "stop" : event.finishReason,
          stats: { ...event.stats, answerTokens },
        };
      }
      continue;
    }
    if (event.type !== "delta" || event.phase !== "answer") {
      if (held) {
        const rest = matcher.flush();
        emitted = pushed;
        const delta = release(rest, true);
        if (delta.text !== "" || delta.tokens > 0) yield delta;
      }
      yield event;
      continue;
    }
    held = {
      tokens: (held?.tokens ?? 0) + event.tokens,
      ids:
        held && !held.ids
          ? undefined
          : event.tokenIds
            ? [...(held?.ids ?? []), ...event.tokenIds]
            : undefined,
      last: event,
    };
    pushed += event.text.length;
    const { text, match } = matcher.push(event.text);
    emitted += text.length;
    if (match) {
      stopped = true;
      // The ids no longer match the cut text.
      yield release(text, false);
      stopRun();
    } else if (pushed === emitted) {
      yield release(text, true);
    } else if (text !== "") {
      // Part of the chunk is held back: the released part carries the tokens so far.
      yield release(text, false);
      held = { tokens: 0, ids: undefined, last: event };
    }
  }
}
