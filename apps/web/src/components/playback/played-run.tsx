import type { EngineEvent } from "@thinkscope/protocol";
import { useApp } from "../../store/app-store.ts";
import type { TraceState } from "../../lib/trace-fold.ts";
import { RunResult } from "../run-result.tsx";
import { PlaybackBar } from "./playback-bar.tsx";
import { usePlayback } from "./use-playback.ts";

/**
 * A run (live or stored) as the playback shows it: the playback bar above
 * the usual numbers, trace and chart, all drawn from the trace as far as
 * the playhead has got.
 */
export function PlayedRun({
  runKey,
  events,
  trace,
  streaming,
  reference,
  startAtEnd = false,
}: {
  runKey: string;
  events: readonly EngineEvent[];
  /** Every event folded: what the view shows while it follows the run. */
  trace: TraceState;
  /** The run itself is still going. */
  streaming: boolean;
  reference: string | null;
  /** A stored run opens whole; a live one plays from its start. */
  startAtEnd?: boolean;
}) {
  const options = useApp((s) => s.playback);
  const shading = useApp((s) => (s.shading ? s.shadeBy : null));
  const playback = usePlayback({ runKey, events, fullTrace: trace, options, startAtEnd });
  const live = !playback.head.paused && (streaming || playback.behind > 0);
  return (
    <>
      <PlaybackBar playback={playback} canRestart={events.length > 0} />
      <RunResult trace={playback.trace} live={live} reference={reference} shading={shading} />
    </>
  );
}
