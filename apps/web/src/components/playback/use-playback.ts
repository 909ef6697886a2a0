import { useCallback, useEffect, useRef, useState } from "react";
import type { EngineEvent } from "@thinkscope/protocol";
import {
  advance,
  catchUp,
  START,
  stepBack,
  stepForward,
  togglePause,
  type PlaybackOptions,
  type Playhead,
} from "../../lib/playback.ts";
import { EMPTY_TRACE, foldEvents, type TraceState } from "../../lib/trace-fold.ts";

export interface Playback {
  head: Playhead;
  /** The trace as far as the playhead: the whole trace while the view follows the run. */
  trace: TraceState;
  /** Events that have arrived but are not shown yet. */
  behind: number;
  following: boolean;
  togglePause(): void;
  step(direction: 1 | -1, unit: "event" | "landmark"): void;
  restart(): void;
  showAll(): void;
}

/** One run's playhead with the trace folded up to it. */
interface Played {
  key: string;
  head: Playhead;
  /** The events up to the playhead, folded; null while it is the run's whole trace (following). */
  trace: TraceState | null;
  /**
   * At the live edge: it stays there as batches arrive (no fold per batch)
   * until a pause, a step back or a replay from the start moves it off.
   */
  live: boolean;
}

interface Inputs {
  key: string;
  events: readonly EngineEvent[];
  fullTrace: TraceState;
  options: PlaybackOptions;
  startAtEnd: boolean;
}

function startOf(inputs: Inputs): Played {
  return inputs.startAtEnd
    ? { key: inputs.key, head: catchUp(START, inputs.events), trace: null, live: true }
    : { key: inputs.key, head: START, trace: EMPTY_TRACE, live: inputs.events.length === 0 };
}

/** `played` moved to `head`: the fold follows it (extended forward, refolded on a step back). */
function moveTo(played: Played, head: Playhead, inputs: Inputs, live: boolean): Played {
  if (head === played.head && live === played.live) return played;
  const { events, fullTrace } = inputs;
  let trace: TraceState | null;
  if (head.shown >= events.length && live) {
    trace = null;
  } else if (head.shown === played.head.shown && played.trace !== null) {
    trace = played.trace;
  } else if (played.trace !== null && head.shown > played.head.shown) {
    trace = foldEvents(played.trace, events.slice(played.head.shown, head.shown));
  } else if (head.shown >= events.length) {
    trace = fullTrace;
  } else {
    trace = foldEvents(EMPTY_TRACE, events.slice(0, head.shown));
  }
  return { key: played.key, head, trace, live };
}

/**
 * Plays `events` into a trace at the options' speed, from requestAnimationFrame.
 * `runKey` names the run: a new one starts from its beginning (or, with
 * `startAtEnd`, from its end, as a stored run opens). While the view follows
 * the run (recorded pace, no holds, at the live edge) it shows `fullTrace`
 * as is, so the live view costs nothing extra.
 */
export function usePlayback({
  runKey,
  events,
  fullTrace,
  options,
  startAtEnd = false,
}: {
  runKey: string;
  events: readonly EngineEvent[];
  fullTrace: TraceState;
  options: PlaybackOptions;
  startAtEnd?: boolean;
}): Playback {
  const inputs: Inputs = { key: runKey, events, fullTrace, options, startAtEnd };
  const [stored, setStored] = useState<Played>(() => startOf(inputs));
  // A new run key reads as that run's start until its playhead first moves.
  const played = stored.key === runKey ? stored : startOf(inputs);
  const latest = useRef(inputs);
  useEffect(() => {
    latest.current = { key: runKey, events, fullTrace, options, startAtEnd };
  });

  /** Moves the playhead; `live` says whether it is at the live edge afterwards. */
  const move = useCallback(
    (update: (head: Playhead, events: readonly EngineEvent[]) => Playhead, stayLive = true) => {
      setStored((current) => {
        const now = latest.current;
        const stored = current.key === now.key ? current : startOf(now);
        // A playhead at the live edge is not moved per batch: it stands for "all that arrived".
        const base = stored.live ? { ...stored, head: catchUp(stored.head, now.events) } : stored;
        const head = update(base.head, now.events);
        // Only a view that can follow (recorded pace, no holds) may stand at the live edge.
        const canFollow =
          stayLive && !head.paused && now.options.speed === 1 && !now.options.pauseAtInterventions;
        const live = canFollow && (base.live || head.shown >= now.events.length);
        const next = moveTo(base, head, now, live);
        return next === current ? current : next;
      });
    },
    [],
  );

  const following =
    options.speed === 1 &&
    !options.pauseAtInterventions &&
    !played.head.paused &&
    (played.live || played.head.shown >= events.length);
  // While following, the view shows everything that arrived, without a state update per batch.
  const head = following && played.live ? catchUp(played.head, events) : played.head;

  useEffect(() => {
    if (following || head.paused) return;
    let frame = 0;
    let last = performance.now();
    const tick = (now: number) => {
      const elapsed = now - last;
      last = now;
      move((head, list) => advance(head, list, elapsed, latest.current.options));
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame);
  }, [following, head.paused, runKey, move]);

  // A view that caught up at the recorded pace stands at the live edge from then on.
  useEffect(() => {
    if (following && !played.live) move((h, list) => catchUp(h, list));
  }, [following, played.live, move]);

  const trace =
    following || played.trace === null || head.shown >= events.length ? fullTrace : played.trace;

  return {
    head,
    trace,
    behind: Math.max(0, events.length - head.shown),
    following,
    togglePause: useCallback(() => move((head) => togglePause(head)), [move]),
    step: useCallback(
      (direction: 1 | -1, unit: "event" | "landmark") =>
        move(
          (head, list) =>
            direction > 0 ? stepForward(head, list, unit) : stepBack(head, list, unit),
          direction > 0,
        ),
      [move],
    ),
    restart: useCallback(() => move(() => START, false), [move]),
    showAll: useCallback(() => move((head, list) => catchUp(head, list)), [move]),
  };
}
