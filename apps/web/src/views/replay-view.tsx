import { useEffect } from "react";
import { useApp, useAppStore } from "../store/app-store.ts";
import { settingsFromRun } from "../lib/run-settings.ts";
import { formatDate } from "../lib/format.ts";
import { navigate } from "../lib/hash-route.ts";
import { PlayedRun } from "../components/playback/played-run.tsx";
import { TraceLegend } from "../components/trace/trace-legend.tsx";
import { referenceFromPrompt } from "../lib/answer-check.ts";
import { TraceLab } from "../components/lab/trace-lab.tsx";

/** A stored run, drawn from its recorded events with the same marks and chart as a live one. */
export function ReplayView({ runId, onClose }: { runId: string; onClose(): void }) {
  const store = useAppStore();
  const opened = useApp((s) => (s.opened?.id === runId ? s.opened : null));

  useEffect(() => {
    void store.getState().openStoredRun(runId);
    return () => store.getState().closeStoredRun();
  }, [store, runId]);

  if (!opened || opened.state === "loading") {
    return (
      <p className="loading" role="status">
        Loading run {runId}…
      </p>
    );
  }
  if (opened.state === "error" || !opened.detail) {
    return (
      <div className="panel empty-state" role="alert">
        <h2>This run could not be opened</h2>
        <p>{opened.error}</p>
        <button type="button" onClick={onClose}>
          Back to the library
        </button>
      </div>
    );
  }

  const { detail, trace } = opened;
  const state = store.getState();
  return (
    <div className="results">
      <section className="panel">
        <div className="replay-bar">
          <h2>
            Run from {formatDate(detail.createdAt)}{" "}
            <span className="status-tag" data-status={detail.status}>
              {detail.status}
            </span>
          </h2>
          <button
            type="button"
            className="small"
            onClick={() => {
              state.replaceSettings(settingsFromRun(detail));
              navigate({ tab: "playground" });
            }}
          >
            Open in playground
          </button>
          <button
            type="button"
            className="small danger"
            onClick={async () => {
              if (
                window.confirm("Delete this run? This cannot be undone.") &&
                (await state.deleteStoredRun(detail.id))
              )
                onClose();
            }}
          >
            Delete
          </button>
          <button type="button" className="small" onClick={onClose}>
            Back
          </button>
        </div>
        <pre className="prompt-preview" aria-label="Prompt">
          {detail.prompt}
        </pre>
        {detail.status === "interrupted" && (
          <p className="banner" data-tone="warn" style={{ margin: "0 0.9rem 0.75rem" }}>
            This run was interrupted (the server stopped while it streamed). What was stored before
            is shown.
          </p>
        )}
        {detail.error && (
          <p className="banner" data-tone="error" style={{ margin: "0 0.9rem 0.75rem" }}>
            {detail.error.message} ({detail.error.code})
          </p>
        )}
      </section>
      <TraceLegend />
      <PlayedRun
        runKey={detail.id}
        events={detail.events}
        trace={trace}
        streaming={false}
        reference={referenceFromPrompt(detail.prompt)}
        startAtEnd
      />
      <TraceLab key={detail.id} detail={detail} />
    </div>
  );
}
