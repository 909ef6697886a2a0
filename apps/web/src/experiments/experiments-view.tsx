import { useEffect } from "react";
import { formatCount, formatDate } from "../lib/format.ts";
import { navigate, routeHref } from "../lib/hash-route.ts";
import { useApp, useAppStore } from "../store/app-store.ts";
import { ExperimentForm } from "./experiment-form.tsx";
import { ExperimentList } from "./experiment-list.tsx";
import { ExperimentProgressPanel } from "./experiment-progress.tsx";
import { ExperimentResultsView } from "./experiment-results.tsx";
import "./experiments.css";

function ActionError() {
  const error = useApp((s) => s.experimentError);
  if (!error) return null;
  return (
    <div className="banner" data-tone="error" role="alert">
      <p>{error}</p>
    </div>
  );
}

/** One experiment: what it runs, its live progress, and its results. */
function ExperimentDetailView({ id }: { id: string }) {
  const store = useAppStore();
  const opened = useApp((s) => (s.experiment?.id === id ? s.experiment : null));
  const busy = useApp((s) => s.experimentBusy);
  const remove = useApp((s) => s.deleteExperiment);

  useEffect(() => {
    void store.getState().openExperiment(id);
    return () => store.getState().closeExperiment();
  }, [store, id]);

  const back = (
    <a href={routeHref({ tab: "experiments", experimentId: null })} className="button small">
      ← All experiments
    </a>
  );
  if (!opened || opened.state === "loading" || (opened.state !== "error" && !opened.detail)) {
    return (
      <p className="loading" role="status">
        Loading experiment {id}…
      </p>
    );
  }
  if (!opened.detail) {
    return (
      <div className="panel empty-state" role="alert">
        <h2>This experiment could not be opened</h2>
        <p>{opened.error}</p>
        {back}
      </div>
    );
  }
  const detail = opened.detail;
  const { spec, dataset } = detail;
  return (
    <div className="experiments exp-detail">
      <header className="panel exp-detail-head">
        <div className="inline">
          {back}
          <h1>{detail.name}</h1>
          <button
            type="button"
            className="small danger"
            disabled={detail.status === "running" || busy !== null}
            title={detail.status === "running" ? "Cancel it first." : undefined}
            onClick={async () => {
              if (
                window.confirm(
                  `Delete "${detail.name}" with its ${formatCount(detail.progress.total)} items and their runs? This cannot be undone.`,
                ) &&
                (await remove(detail.id))
              ) {
                navigate({ tab: "experiments", experimentId: null });
              }
            }}
          >
            Delete
          </button>
        </div>
        <p className="hint">
          {formatDate(detail.createdAt)} · {dataset.name} ({dataset.shape}),{" "}
          {formatCount(dataset.problems)} problems
          {dataset.offset > 0 ? ` from #${dataset.offset + 1}` : ""} of{" "}
          {formatCount(dataset.available)} · {detail.settings} settings × {detail.samples} samples ·{" "}
          {detail.backend}
          {detail.model ? ` / ${detail.model}` : ""} · temperature {spec.sampling.temperature ?? 0}
          {spec.sampling.top_p !== undefined ? `, top_p ${spec.sampling.top_p}` : ""}, seed{" "}
          {spec.sampling.seed} · concurrency {spec.concurrency}
        </p>
      </header>
      <ActionError />
      <ExperimentProgressPanel
        summary={detail}
        receivedAt={opened.receivedAt}
        throughput={detail.throughput}
      />
      <ExperimentResultsView detail={detail} />
    </div>
  );
}

/** The Experiments tab: the form and the past experiments, or one experiment. */
export default function ExperimentsView({ experimentId }: { experimentId: string | null }) {
  const store = useAppStore();
  useEffect(() => {
    const state = store.getState();
    if (state.experimentPresets === null) void state.loadExperimentPresets();
  }, [store]);
  useEffect(() => {
    if (experimentId === null) void store.getState().loadExperiments();
  }, [store, experimentId]);

  if (experimentId !== null) return <ExperimentDetailView id={experimentId} />;
  return (
    <div className="experiments exp-home">
      <ExperimentForm />
      <div className="exp-side">
        <ActionError />
        <ExperimentList />
        <section className="panel exp-about" aria-label="About experiments">
          <h2 className="panel-title">What an experiment shows</h2>
          <ul>
            <li>
              <strong>Test-time scaling</strong>: accuracy against thinking tokens as budget forcing
              adds waits or cuts the thinking short (the s1 paper&apos;s figure), with its Control,
              Scaling and Performance metrics.
            </li>
            <li>
              <strong>Sequential against parallel</strong>: one longer trace against a majority vote
              over several samples, at the same token cost.
            </li>
            <li>
              <strong>pass@k</strong>: how often at least one of k samples is right.
            </li>
          </ul>
          <p className="hint">
            Every item is stored as a run: open any answer in the per-problem table to see its trace
            with the injected waits marked.
          </p>
        </section>
      </div>
    </div>
  );
}
