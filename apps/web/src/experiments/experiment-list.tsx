import { useShallow } from "zustand/react/shallow";
import { formatCount, formatDate } from "../lib/format.ts";
import { routeHref } from "../lib/hash-route.ts";
import { useApp } from "../store/app-store.ts";

/** Past experiments: status and progress (live for running ones), open and delete. */
export function ExperimentList() {
  const { experiments, total, state, error, busy } = useApp(
    useShallow((s) => ({
      experiments: s.experimentList,
      total: s.experimentTotal,
      state: s.experimentListState,
      error: s.experimentListError,
      busy: s.experimentBusy,
    })),
  );
  const load = useApp((s) => s.loadExperiments);
  const remove = useApp((s) => s.deleteExperiment);

  let body;
  if (state === "error") {
    body = (
      <div className="empty-state" role="alert">
        <p>The experiments could not be loaded: {error}</p>
        <button type="button" onClick={() => void load()}>
          Try again
        </button>
      </div>
    );
  } else if (state !== "loading" && experiments.length === 0) {
    body = (
      <div className="empty-state">
        <p>No experiments yet. Start one with the form; it is stored and listed here.</p>
      </div>
    );
  } else {
    body = (
      <div className="exp-table-scroll">
        <table className="run-table exp-list" aria-busy={state === "loading"}>
          <caption className="visually-hidden">Past experiments</caption>
          <thead>
            <tr>
              <th scope="col">Experiment</th>
              <th scope="col">Dataset</th>
              <th scope="col" className="num">
                Items
              </th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {experiments.map((e) => {
              const finished = e.progress.done + e.progress.failed;
              return (
                <tr key={e.id} data-experiment={e.id}>
                  <td>
                    <a href={routeHref({ tab: "experiments", experimentId: e.id })}>{e.name}</a>
                    <div className="hint">{formatDate(e.createdAt)}</div>
                  </td>
                  <td>
                    {e.dataset.name}
                    <div className="hint">
                      {formatCount(e.dataset.problems)} problems × {e.settings} settings ×{" "}
                      {e.samples} samples
                    </div>
                  </td>
                  <td className="num">
                    {formatCount(e.progress.done)}/{formatCount(e.progress.total)}
                    {e.status === "running" && (
                      <progress
                        max={Math.max(1, e.progress.total)}
                        value={finished}
                        aria-label={`${e.name}: ${formatCount(finished)} of ${formatCount(e.progress.total)} items finished`}
                      />
                    )}
                  </td>
                  <td>
                    <span className="status-tag" data-status={e.status}>
                      {e.status}
                    </span>
                  </td>
                  <td>
                    <button
                      type="button"
                      className="small danger"
                      disabled={e.status === "running" || busy !== null}
                      title={e.status === "running" ? "Cancel it first." : undefined}
                      aria-label={`Delete experiment ${e.name}`}
                      onClick={() => {
                        if (
                          window.confirm(
                            `Delete the experiment "${e.name}" with its ${formatCount(e.progress.total)} items and their runs? This cannot be undone.`,
                          )
                        )
                          void remove(e.id);
                      }}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    );
  }
  return (
    <section className="panel exp-list-panel" aria-labelledby="exp-list-title">
      <div className="exp-figure-head">
        <h2 id="exp-list-title">Past experiments</h2>
        <span className="hint">
          {state === "ready" && total > experiments.length
            ? `${experiments.length} newest of ${formatCount(total)}`
            : ""}
        </span>
        <button type="button" className="small" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      {body}
    </section>
  );
}
