import { useEffect, useRef } from "react";
import { useApp } from "../../store/app-store.ts";
import { PLAYBACK_SPEEDS } from "../../lib/playback.ts";
import type { ShadeBy, TraceState } from "../../lib/trace-fold.ts";
import type { Playback } from "./use-playback.ts";

const HOLD_LABEL: Record<string, string> = {
  wait: "Paused at a forced Wait",
  forced_end: "Paused at a forced close",
};

function speedLabel(speed: number): string {
  return `${speed}×`;
}

const SHADE_LABEL: Record<ShadeBy, string> = {
  pressure: "stop pressure",
  entropy: "token entropy",
};

const SHADE_TIP: Record<ShadeBy, string> = {
  pressure:
    "Shade the thinking by the model's probability of closing it at each token (the chart's stop pressure).",
  entropy:
    "Shade the thinking by how unsure the model was of each token (its entropy, in bits: 1 bit is a coin toss between two tokens).",
};

/**
 * Why the run on screen cannot be shaded this way, or null when it can.
 * Entropy needs the backend to report it and the run to have asked (the
 * page's runs do; API and experiment runs do not).
 */
export function unshadableReason(trace: TraceState, by: ShadeBy): string | null {
  const capabilities = trace.start?.capabilities;
  if (by === "pressure") {
    return capabilities?.logprobs === false
      ? "This run's backend reports no log-probabilities, so there is no stop pressure to shade by."
      : null;
  }
  if (capabilities && capabilities.tokenEntropy !== true)
    return "This run's backend cannot report how unsure the model was at each token.";
  if (!trace.hasEntropy && trace.thinkingGenerated > 0)
    return "This run was recorded without token entropy (only the page's own runs ask for it).";
  return null;
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
  const shadeBy = useApp((s) => s.shadeBy);
  const setShadeBy = useApp((s) => s.setShadeBy);
  const reasons: Record<ShadeBy, string | null> = {
    pressure: unshadableReason(playback.trace, "pressure"),
    entropy: unshadableReason(playback.trace, "entropy"),
  };
  const unshadable = reasons[shadeBy];
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
      <span className="playback-shading" title={unshadable ?? SHADE_TIP[shadeBy]}>
        <label>
          <input
            type="checkbox"
            checked={shading && unshadable === null}
            disabled={unshadable !== null}
            aria-describedby={unshadable ? "shading-reason" : undefined}
            onChange={(event) => setShading(event.target.checked)}
          />{" "}
          Shade by
        </label>{" "}
        <select
          aria-label="Shade the thinking by"
          value={shadeBy}
          onChange={(event) => setShadeBy(event.target.value as ShadeBy)}
        >
          {(["pressure", "entropy"] as const).map((by) => (
            <option key={by} value={by} title={reasons[by] ?? SHADE_TIP[by]}>
              {SHADE_LABEL[by]}
              {reasons[by] ? " (not for this run)" : ""}
            </option>
          ))}
        </select>
        {unshadable && (
          <span className="hint shading-reason" id="shading-reason">
            {unshadable}
          </span>
        )}
      </span>
      <span className="hint playback-status" role="status" aria-live="polite">
        {status}
      </span>
    </div>
  );
}
