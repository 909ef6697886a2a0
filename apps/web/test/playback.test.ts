import { describe, expect, it } from "vitest";
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
} from "../src/lib/playback.ts";
import { foldEvents, EMPTY_TRACE } from "../src/lib/trace-fold.ts";
import { twoWaitRun } from "./fixtures.ts";

const slow: PlaybackOptions = { speed: 0.25, pauseAtInterventions: false };
const holding: PlaybackOptions = { speed: 0.25, pauseAtInterventions: true };

/** Drives the playhead in frames of `frameMs` until it stops moving or pauses. */
function play(head: Playhead, events: EngineEvent[], options: PlaybackOptions, frameMs = 16) {
  const frames: Playhead[] = [];
  let current = head;
  for (let i = 0; i < 10_000; i++) {
    const next = advance(current, events, frameMs, options);
    if (next === current) break;
    frames.push(next);
    current = next;
    if (current.paused) break;
  }
  return { head: current, frames };
}

describe("playback", () => {
  const events = twoWaitRun();
  const runMs = events.at(-1)!.time;

  it("plays a run at a quarter of its pace: four times the wall-clock time, every event in order", () => {
    const { head, frames } = play(START, events, slow);
    expect(head.shown).toBe(events.length);
    const wallMs = frames.findIndex((f) => f.shown === events.length) * 16 + 16;
    expect(wallMs).toBeGreaterThanOrEqual(runMs * 4);
    expect(wallMs).toBeLessThan(runMs * 4 + 32);
    const shown = frames.map((f) => f.shown);
    expect(shown).toEqual([...shown].sort((a, b) => a - b));
  });

  it("holds at each forced Wait with the Wait as the last event shown, and goes on when resumed", () => {
    let { head } = play(START, events, holding);
    expect(head).toMatchObject({ paused: true, heldAt: "wait" });
    expect(events[head.shown - 1]).toMatchObject({ type: "injection", kind: "wait" });
    expect(advance(head, events, 1_000, holding)).toBe(head); // held: time passing changes nothing

    head = play(togglePause(head), events, holding).head;
    expect(head).toMatchObject({ paused: true, heldAt: "wait" });
    expect(events[head.shown - 1]).toMatchObject({
      type: "injection",
      kind: "wait",
      waitNumber: 2,
    });

    // The model's own close is not an intervention: the rest plays through.
    head = play(togglePause(head), events, holding).head;
    expect(head).toMatchObject({ shown: events.length, paused: false, heldAt: null });
  });

  it("never runs its clock ahead of what has arrived, so a live run's later events play at speed too", () => {
    const arrived = events.slice(0, 3);
    const fast = { speed: 16, pauseAtInterventions: false };
    const head = advance(START, arrived, 10_000, fast);
    expect(head.shown).toBe(3);
    expect(head.clock).toBe(arrived.at(-1)!.time);
    // The rest arrives: one small frame shows only what falls in it, not everything at once.
    const next = advance(head, events, 1, { speed: 1, pauseAtInterventions: false });
    expect(next.shown).toBeLessThan(events.length);
  });

  it("steps one event, or to the next mark, forward and back", () => {
    const one = stepForward(START, events, "event");
    expect(one).toMatchObject({ shown: 1, paused: true });
    const mark = stepForward(one, events, "landmark");
    expect(events[mark.shown - 1]).toMatchObject({ type: "injection", kind: "wait" });
    const back = stepBack(mark, events, "event");
    expect(back.shown).toBe(mark.shown - 1);
    expect(back.clock).toBe(events[back.shown - 1]!.time);
    expect(stepBack(stepBack(mark, events, "event"), events, "landmark").shown).toBeLessThan(
      back.shown,
    );
    expect(stepBack(START, events, "event").shown).toBe(0);
  });

  it("follows the run (shows everything as it arrives) only at the recorded pace, unpaused, caught up", () => {
    const normal = { speed: 1, pauseAtInterventions: false };
    expect(isFollowing(catchUp(START, events), events, normal)).toBe(true);
    expect(isFollowing(START, events, normal)).toBe(false);
    expect(isFollowing(catchUp(START, events), events, slow)).toBe(false);
    expect(isFollowing(catchUp(START, events), events, holding)).toBe(false);
    expect(isFollowing(togglePause(catchUp(START, events)), events, normal)).toBe(false);
  });

  it("a trace folded up to the playhead equals the whole trace once the playhead reaches the end", () => {
    const { head } = play(START, events, slow);
    const whole = foldEvents(EMPTY_TRACE, events);
    const played = foldEvents(EMPTY_TRACE, events.slice(0, head.shown));
    expect(played.segments.map((s) => s.blocks.join(""))).toEqual(
      whole.segments.map((s) => s.blocks.join("")),
    );
  });
});
