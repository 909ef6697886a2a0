import { useEffect, useRef, useState, type RefObject } from "react";
import { useApp, useAppStore } from "../store/app-store.ts";
import { runBlocker } from "../store/selectors.ts";
import { isActive } from "../store/live-run.ts";
import { useSettings } from "../components/run-panel/use-settings.ts";
import { useCtrlEnter } from "../lib/use-ctrl-enter.ts";
import { RunPanel } from "../components/run-panel/run-panel.tsx";
import { PlayedRun } from "../components/playback/played-run.tsx";
import { referenceFromPrompt } from "../lib/answer-check.ts";
import { RunStatusLine } from "../components/status/run-status-line.tsx";
import { TraceLegend } from "../components/trace/trace-legend.tsx";

function PlaygroundActions() {
  const active = useApp((s) => isActive(s.playgroundKey ? s.runs[s.playgroundKey] : undefined));
  const stopping = useApp((s) =>
    s.playgroundKey ? (s.runs[s.playgroundKey]?.stopping ?? false) : false,
  );
  const blocker = useApp(runBlocker);
  const problems = Object.values(useSettings().problems);
  const runPlayground = useApp((s) => s.runPlayground);
  const stopRun = useApp((s) => s.stopRun);
  const playgroundKey = useApp((s) => s.playgroundKey);
  const reason = blocker ?? (problems.length > 0 ? `Fix the settings first: ${problems[0]}` : null);
  return (
    <>
      <button
        type="button"
        className="primary"
        onClick={runPlayground}
        disabled={reason !== null}
        aria-describedby="run-hint"
      >
        {active ? "Run again" : "Run"}
      </button>
      <button
        type="button"
        className="danger"
        onClick={() => playgroundKey && stopRun(playgroundKey)}
        disabled={!active || stopping}
      >
        {stopping ? "Stopping…" : "Stop"}
      </button>
      <span className="hint" id="run-hint">
        {reason ?? (
          <>
            <kbd>Ctrl</kbd>+<kbd>Enter</kbd> runs
          </>
        )}
      </span>
    </>
  );
}

function PlaygroundResults() {
  const run = useApp((s) => (s.playgroundKey ? (s.runs[s.playgroundKey] ?? null) : null));
  return (
    <section className="results" aria-label="Run">
      <div className="inline" style={{ justifyContent: "space-between" }}>
        <RunStatusLine run={run} idleText="No run yet." />
        <TraceLegend />
      </div>
      {run ? (
        <PlayedRun
          runKey={run.key}
          events={run.events}
          trace={run.trace}
          streaming={isActive(run)}
          reference={referenceFromPrompt(run.spec.prompt ?? "")}
        />
      ) : (
        <div className="panel empty-state">
          <h2>Watch a model think</h2>
          <p>
            Write a question, pick a budget (or a preset such as{" "}
            <em>s1 paper: ignore the end twice</em>), and press <strong>Run</strong> or{" "}
            <kbd>Ctrl</kbd>+<kbd>Enter</kbd>.
          </p>
          <p>
            The thinking grows here as the tokens arrive; every injected <code>Wait</code>, forced
            close and the model&apos;s own close is marked in the text and on the chart.
          </p>
        </div>
      )}
    </section>
  );
}

/**
 * On a narrow screen the trace is below the settings: a new run scrolls it
 * into view, so pressing Run shows what it does.
 */
function useScrollToNewRun(target: RefObject<HTMLElement | null>) {
  const key = useApp((s) => s.playgroundKey);
  const first = useRef(true);
  useEffect(() => {
    if (first.current || key === null) {
      first.current = false;
      return;
    }
    const element = target.current;
    if (!element) return;
    const { top } = element.getBoundingClientRect();
    if (top > window.innerHeight * 0.5 || top < 0) {
      element.scrollIntoView({ block: "start", behavior: "smooth" });
    }
  }, [key, target]);
}

/**
 * Presenter layout (projector mode): the run fills the screen, the
 * settings wait in a drawer, and Run/Stop stay in a bar at the top.
 */
function PresenterPlayground() {
  const [open, setOpen] = useState(false);
  return (
    <div className="presenter">
      <div className="presenter-bar panel">
        <PlaygroundActions />
        <button
          type="button"
          className="small"
          aria-expanded={open}
          aria-controls="settings-drawer"
          onClick={() => setOpen(!open)}
        >
          {open ? "Close settings" : "Settings…"}
        </button>
      </div>
      <div className="settings-drawer" id="settings-drawer" data-open={open} hidden={!open}>
        <RunPanel
          actions={
            <button type="button" className="primary" onClick={() => setOpen(false)}>
              Done
            </button>
          }
        />
      </div>
      <PlaygroundResults />
    </div>
  );
}

/** The playground: settings on the left, the live run on the right. */
export default function PlaygroundView() {
  const store = useAppStore();
  const projector = useApp((s) => s.projector);
  const results = useRef<HTMLDivElement>(null);
  useScrollToNewRun(results);
  useCtrlEnter(() => {
    const state = store.getState();
    if (runBlocker(state) === null) state.runPlayground();
  });
  if (projector) return <PresenterPlayground />;
  return (
    <div className="playground">
      <RunPanel actions={<PlaygroundActions />} />
      <div ref={results} className="results-anchor">
        <PlaygroundResults />
      </div>
    </div>
  );
}
