import { useEffect, useRef } from "react";
import { useApp } from "../../store/app-store.ts";
import { PLAYBACK_SPEEDS } from "../../lib/playback.ts";
import type { Playback } from "./use-playback.ts";

const HOLD_LABEL: Record<string, string> = {
  wait: "Paused at a forced Wait",
  forced_end: "Paused at a forced close",
};

function speedLabel(speed: number): string {
  return `${speed}×`;
}

/** Whether a key press belongs to a control that reads keys itself (typing, sliders, menus). */
function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
}

/**
 * Space pauses and resumes; → steps a token, Shift+→ to the next
 * intervention or phase, ← and Shift+← step back. Space on a focused
 * button plays too (the Run button keeps focus after a click), so its
 * default (pressing the button) is held back.
 */
function usePlaybackKeys(playback: Playback) {
  const ref = useRef(playback);
  useEffect(() => {
    ref.current = playback;
  });
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || isTypingTarget(event.target)) return;
      const p = ref.current;
      if (event.key === " ") {
        event.preventDefault();
        if (!event.repeat) p.togglePause();
      } else if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
        // Arrows inside a scrolled region or a focused chip keep their own meaning.
        if (event.target instanceof HTMLElement && event.target.closest(".trace-scroll")) return;
        event.preventDefault();
        p.step(event.key === "ArrowRight" ? 1 : -1, event.shiftKey ? "landmark" : "event");
      }
    };
    const onKeyUp = (event: KeyboardEvent) => {
      if (event.key === " " && !isTypingTarget(event.target)) event.preventDefault();
    };
    window.addEventListener("keydown", onKeyDown);
    window.addEventListener("keyup", onKeyUp);
    return () => {
      window.removeEventListener("keydown", onKeyDown);
      window.removeEventListener("keyup", onKeyUp);
    };
  }, []);
}

/** Speed, pause, steps and "pause at each intervention" for the run on screen. */
export function PlaybackBar({ playback, canRestart }: { playback: Playback; canRestart: boolean }) {
  const options = useApp((s) => s.playback);
  const setPlayback = useApp((s) => s.setPlayback);
  const shading = useApp((s) => s.shading);
  const setShading = useApp((s) => s.setShading);
  // Only backends that report log-probabilities say how close the model came to closing.
  const shadable = playback.trace.start?.capabilities.logprobs ?? true;
  usePlaybackKeys(playback);
  const { head, behind } = playback;
  const status = head.heldAt
    ? `${HOLD_LABEL[head.heldAt] ?? "Paused"}: press Space to go on.`
    : head.paused
      ? "Paused: press Space to go on."
      : behind > 0
        ? `Playing at ${speedLabel(options.speed)}, ${behind} event${behind === 1 ? "" : "s"} buffered.`
        : "";
  return (
    <div
      className="playback-bar"
      role="group"
      aria-label="Playback"
      data-following={playback.following}
      data-shown={head.shown}
      data-behind={behind}
    >
      <button
        type="button"
        className="small"
        onClick={playback.togglePause}
        aria-keyshortcuts="Space"
        data-testid="play-pause"
      >
        {head.paused ? "▶ Resume" : "❚❚ Pause"}
      </button>
      <button
        type="button"
        className="small"
        onClick={() => playback.step(1, "event")}
        aria-keyshortcuts="ArrowRight"
        title="One token (→); ← steps back"
      >
        Step ›
      </button>
      <button
        type="button"
        className="small"
        onClick={() => playback.step(1, "landmark")}
        aria-keyshortcuts="Shift+ArrowRight"
        title="To the next Wait, close or phase (Shift+→)"
      >
        Next mark »
      </button>
      {canRestart && (
        <button type="button" className="small" onClick={playback.restart}>
          ⟲ Replay
        </button>
      )}
      <button type="button" className="small" onClick={playback.showAll} disabled={behind === 0}>
        Show all
      </button>
      <label className="playback-speed">
        Speed{" "}
        <select
          value={options.speed}
          onChange={(event) => setPlayback({ speed: Number(event.target.value) })}
        >
          {PLAYBACK_SPEEDS.map((speed) => (
            <option key={speed} value={speed}>
              {speedLabel(speed)}
            </option>
          ))}
        </select>
      </label>
      <label className="playback-hold">
        <input
          type="checkbox"
          checked={options.pauseAtInterventions}
          onChange={(event) => setPlayback({ pauseAtInterventions: event.target.checked })}
        />{" "}
        Pause at each Wait or forced close
      </label>
      <label
        className="playback-shading"
        title={
          shadable
            ? "Shade the thinking by the model's probability of closing it at each token (the chart's stop pressure)."
            : "This backend reports no log-probabilities, so there is nothing to shade by."
        }
      >
        <input
          type="checkbox"
          checked={shading && shadable}
          disabled={!shadable}
          onChange={(event) => setShading(event.target.checked)}
        />{" "}
        Shade by stop pressure
      </label>
      <span className="hint playback-status" role="status" aria-live="polite">
        {status}
      </span>
    </div>
  );
}
