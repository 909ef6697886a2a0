import { useCallback, useEffect, useRef, useState } from "react";
import type { EngineEvent } from "@thinkscope/protocol";
import {
  advance,
  catchUp,
  isFollowing,
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

/**
 * Plays `events` into a trace at the options' speed, from requestAnimationFrame.
 * `runKey` names the run: a new one starts from its beginning (or, with
 * `startAtEnd`, from its end, as a stored run opens). While the view follows
 * the run (recorded pace, no holds, not behind) it shows `fullTrace` as is,
 * so the live view costs nothing extra.
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
  const [head, setHead] = useState<Playhead>(() => (startAtEnd ? catchUp(START, events) : START));
  const keyRef = useRef(runKey);
  const eventsRef = useRef(events);
  eventsRef.current = events;
  const optionsRef = useRef(options);
  optionsRef.current = options;
  // The folded prefix, extended as the playhead moves on (refolded only on a step back).
  const folded = useRef<{ shown: number; trace: TraceState }>({ shown: 0, trace: EMPTY_TRACE });

  // Once at the live edge the view stays there as batches arrive (no refold per batch), until
  // something slows it, pauses it or sends it back.
  const wasFollowing = useRef(false);

  if (keyRef.current !== runKey) {
    keyRef.current = runKey;
    folded.current = { shown: 0, trace: EMPTY_TRACE };
    wasFollowing.current = false;
    const fresh = startAtEnd ? catchUp(START, events) : START;
    if (head !== fresh) setHead(fresh);
  }

  const following =
    isFollowing(head, events, options) ||
    (wasFollowing.current && isFollowing({ ...head, shown: events.length }, events, options));
  wasFollowing.current = following;

  useEffect(() => {
    if (following || head.paused) return;
    let frame = 0;
    let last = performance.now();
    const tick = (now: number) => {
      const elapsed = now - last;
      last = now;
      setHead((current) => advance(current, eventsRef.current, elapsed, optionsRef.current));
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame);
  }, [following, head.paused, runKey]);

  // While following, the playhead keeps up with what arrives, so slowing down starts from here.
  useEffect(() => {
    if (following && head.shown !== events.length) setHead((h) => catchUp(h, eventsRef.current));
  }, [following, events.length, head.shown]);

  let trace = fullTrace;
  if (!following && head.shown < events.length) {
    const cache = folded.current;
    if (head.shown < cache.shown) folded.current = { shown: 0, trace: EMPTY_TRACE };
    const base = folded.current;
    if (head.shown > base.shown) {
      folded.current = {
        shown: head.shown,
        trace: foldEvents(base.trace, events.slice(base.shown, head.shown)),
      };
    }
    trace = folded.current.trace;
  }

  const step = useCallback((direction: 1 | -1, unit: "event" | "landmark") => {
    setHead((h) =>
      direction > 0
        ? stepForward(h, eventsRef.current, unit)
        : stepBack(h, eventsRef.current, unit),
    );
  }, []);

  return {
    head,
    trace,
    behind: Math.max(0, events.length - head.shown),
    following,
    togglePause: useCallback(() => setHead(togglePause), []),
    step,
    restart: useCallback(() => {
      wasFollowing.current = false;
      setHead(START);
    }, []),
    showAll: useCallback(() => setHead((h) => catchUp(h, eventsRef.current)), []),
  };
}
