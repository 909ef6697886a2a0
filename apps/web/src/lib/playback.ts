/**
 * The playback of a run's events, for live runs and replays alike: the view
 * shows the events up to a playhead that moves with its own clock, at any
 * speed, so a run that took 0.4 s can be watched over a minute while the
 * live run keeps streaming into the buffer behind it. It can pause, step one
 * event (a token) or to the next intervention, and hold by itself at each
 * intervention (a forced Wait or a forced close) until resumed.
 *
 * Pure functions over plain values: a component drives them from
 * requestAnimationFrame, tests drive them with made-up elapsed times.
 */
import type { EngineEvent, InjectionKind } from "@thinkscope/protocol";

/** The speeds the page offers, slowest first; 1 is the recorded pace. */
export const PLAYBACK_SPEEDS = [0.1, 0.25, 0.5, 1, 2, 4, 16] as const;

export interface PlaybackOptions {
  /** Run-time milliseconds played per wall-clock millisecond. */
  speed: number;
  /** Hold after showing each intervention (Wait, forced close), until resumed. */
  pauseAtInterventions: boolean;
}

export interface Playhead {
  /** How many of the run's events the view shows. */
  shown: number;
  /** The run's own time (ms since it started) the view has reached. */
  clock: number;
  paused: boolean;
  /** The intervention the playhead held at by itself, until it moves on. */
  heldAt: InjectionKind | null;
}

export const START: Playhead = Object.freeze({ shown: 0, clock: 0, paused: false, heldAt: null });

/** What the page stops at: the engine stepping in, not the model's own close. */
export function isIntervention(event: EngineEvent | undefined): boolean {
  return event?.type === "injection" && event.kind !== "end";
}

/** An event worth stepping to: an injection or a change of phase (thinking to answer). */
function isLandmark(event: EngineEvent | undefined): boolean {
  return event?.type === "injection" || event?.type === "phase" || event?.type === "run.finished";
}

/**
 * Moves the playhead on by `elapsedMs` of wall-clock time: every event whose
 * time has come is shown, unless an intervention comes first and the
 * options say to hold there. The clock never runs ahead of the last event
 * that has arrived, so events arriving later play at the chosen speed too.
 */
export function advance(
  head: Playhead,
  events: readonly EngineEvent[],
  elapsedMs: number,
  options: PlaybackOptions,
): Playhead {
  if (head.paused || elapsedMs <= 0) return head;
  let clock = head.clock + elapsedMs * options.speed;
  let shown = head.shown;
  while (shown < events.length && events[shown]!.time <= clock) {
    const event = events[shown]!;
    shown += 1;
    if (options.pauseAtInterventions && isIntervention(event) && event.type === "injection") {
      return { shown, clock: event.time, paused: true, heldAt: event.kind };
    }
  }
  const latest = events.length > 0 ? events[events.length - 1]!.time : 0;
  if (shown === events.length) clock = Math.min(clock, Math.max(latest, head.clock));
  if (shown === head.shown && clock === head.clock) return head;
  return { shown, clock, paused: false, heldAt: null };
}

/** Pause or resume; resuming from a hold moves on past the intervention. */
export function togglePause(head: Playhead): Playhead {
  return { ...head, paused: !head.paused, heldAt: null };
}

/**
 * One step forward, paused afterwards: `event` shows the next event (a
 * token, as backends stream them), `landmark` everything up to and
 * including the next injection or change of phase.
 */
export function stepForward(
  head: Playhead,
  events: readonly EngineEvent[],
  unit: "event" | "landmark",
): Playhead {
  if (head.shown >= events.length) return { ...head, paused: true, heldAt: null };
  let shown = head.shown + 1;
  if (unit === "landmark") {
    while (shown < events.length && !isLandmark(events[shown - 1])) shown += 1;
  }
  const last = events[shown - 1]!;
  return { shown, clock: Math.max(head.clock, last.time), paused: true, heldAt: null };
}

/** One step back (paused): the view shows one event fewer, or goes back to the previous landmark. */
export function stepBack(
  head: Playhead,
  events: readonly EngineEvent[],
  unit: "event" | "landmark",
): Playhead {
  let shown = Math.max(0, head.shown - 1);
  if (unit === "landmark") {
    while (shown > 0 && !isLandmark(events[shown - 1])) shown -= 1;
  }
  const clock = shown === 0 ? 0 : events[shown - 1]!.time;
  return { shown, clock, paused: true, heldAt: null };
}

/** Jump to the end of what has arrived, and play on from there. */
export function catchUp(head: Playhead, events: readonly EngineEvent[]): Playhead {
  const clock = events.length > 0 ? Math.max(head.clock, events[events.length - 1]!.time) : 0;
  return { shown: events.length, clock, paused: false, heldAt: null };
}

/**
 * Whether the view can simply show everything as it arrives: the recorded
 * pace, no holds, not paused and not behind.
 */
export function isFollowing(
  head: Playhead,
  events: readonly EngineEvent[],
  options: PlaybackOptions,
): boolean {
  return (
    options.speed === 1 &&
    !options.pauseAtInterventions &&
    !head.paused &&
    head.shown >= events.length
  );
}
