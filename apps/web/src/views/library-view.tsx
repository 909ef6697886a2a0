import { useEffect, useId, useRef, useState } from "react";
import { useShallow } from "zustand/react/shallow";
import type { RunStatus, RunSummary } from "@thinkscope/protocol";
import { useApp, useAppStore } from "../store/app-store.ts";
import { runsExportUrl } from "../lib/api-client.ts";
import { referenceFromPrompt } from "../lib/answer-check.ts";
import { runQueryOf, type LibraryQuery } from "../store/library-slice.ts";
import { FinalAnswer } from "../components/trace/final-answer.tsx";
import { VerdictBadge } from "../components/trace/verdict-badge.tsx";
import { formatCount, formatDate } from "../lib/format.ts";
import { navigate, routeHref } from "../lib/hash-route.ts";
import { ReplayView } from "./replay-view.tsx";

const STATUSES: (RunStatus | "")[] = [
  "",
  "completed",
  "running",
  "aborted",
  "error",
  "interrupted",
];
const SOURCES: { value: LibraryQuery["source"]; label: string }[] = [
  { value: "not-experiment", label: "Page, API and CLI" },
  { value: "any", label: "Everything, experiments too" },
  { value: "page", label: "Page" },
  { value: "api", label: "API" },
  { value: "cli", label: "CLI" },
  { value: "experiment", label: "Experiments" },
];

/** Typing in the search box queries the server once the user pauses. */
const SEARCH_DELAY_MS = 300;

function budgetSummary(run: RunSummary): string {
  const bf = run.budgetForcing;
  const parts: string[] = [];
  if (bf.num_waits) parts.push(`${bf.num_waits} wait${bf.num_waits === 1 ? "" : "s"}`);
  if (bf.min_thinking_tokens) parts.push(`min ${bf.min_thinking_tokens}`);
  if (bf.max_thinking_tokens !== undefined) parts.push(`cap ${bf.max_thinking_tokens}`);
  return parts.join(", ") || "defaults";
}

function Filters() {
  const query = useApp((s) => s.libraryQuery);
  const setQuery = useApp((s) => s.setLibraryQuery);
  const id = useId();
  const [search, setSearch] = useState(query.q);
  const [model, setModel] = useState(query.model);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const later = (patch: { q?: string; model?: string }) => {
    if (timer.current !== null) clearTimeout(timer.current);
    timer.current = setTimeout(() => setQuery(patch), SEARCH_DELAY_MS);
  };
  useEffect(
    () => () => {
      if (timer.current !== null) clearTimeout(timer.current);
    },
    [],
  );
  return (
    <div className="library-filters" role="search">
      <div className="field">
        <label htmlFor={`${id}-q`}>Search prompts and answers</label>
        <input
          id={`${id}-q`}
          type="search"
          value={search}
          onChange={(event) => {
            setSearch(event.target.value);
            later({ q: event.target.value });
          }}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-model`}>Model</label>
        <input
          id={`${id}-model`}
          type="text"
          value={model}
          onChange={(event) => {
            setModel(event.target.value);
            later({ model: event.target.value });
          }}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-status`}>Status</label>
        <select
          id={`${id}-status`}
          value={query.status}
          onChange={(event) => setQuery({ status: event.target.value as RunStatus | "" })}
        >
          {STATUSES.map((status) => (
            <option key={status} value={status}>
              {status === "" ? "Any" : status}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-source`}>Source</label>
        <select
          id={`${id}-source`}
          value={query.source}
          onChange={(event) =>
            setQuery({ source: event.target.value as LibraryQuery["source"], experimentId: "" })
          }
        >
          {SOURCES.map(({ value, label }) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <ExperimentFilter />
      <TransferControls />
    </div>
  );
}

/** One experiment's runs, chosen from the experiments this server holds. */
function ExperimentFilter() {
  const query = useApp((s) => s.libraryQuery);
  const setQuery = useApp((s) => s.setLibraryQuery);
  const experiments = useApp((s) => s.experimentList);
  const loadExperiments = useApp((s) => s.loadExperiments);
  const id = useId();
  const wanted = query.source === "experiment" || query.source === "any";
  useEffect(() => {
    if (wanted) void loadExperiments();
  }, [wanted, loadExperiments]);
  if (!wanted) return null;
  return (
    <div className="field">
      <label htmlFor={`${id}-experiment`}>Experiment</label>
      <select
        id={`${id}-experiment`}
        value={query.experimentId}
        onChange={(event) => setQuery({ experimentId: event.target.value })}
      >
        <option value="">Any</option>
        {experiments.map((e) => (
          <option key={e.id} value={e.id}>
            {e.name || e.id}
          </option>
        ))}
      </select>
    </div>
  );
}

/** Export the (filtered) runs as JSONL; import a JSONL file. */
function TransferControls() {
  const query = useApp((s) => s.libraryQuery);
  const importRuns = useApp((s) => s.importRuns);
  const importMessage = useApp((s) => s.importMessage);
  const id = useId();
  return (
    <div className="inline" style={{ marginLeft: "auto" }}>
      <a
        className="button small"
        href={runsExportUrl(runQueryOf(query))}
        download="thinkscope-runs.jsonl"
      >
        Export JSONL
      </a>
      <label className="button small" htmlFor={`${id}-import`}>
        Import JSONL…
      </label>
      <input
        id={`${id}-import`}
        type="file"
        accept=".jsonl,.ndjson,application/x-ndjson,application/json,text/plain"
        className="visually-hidden"
        onChange={async (event) => {
          const file = event.target.files?.[0];
          event.target.value = "";
          if (file) await importRuns(await file.text());
        }}
      />
      <span role="status" aria-live="polite" className="hint">
        {importMessage}
      </span>
    </div>
  );
}

function RunTable() {
  const { runs, total, state, error, query } = useApp(
    useShallow((s) => ({
      runs: s.libraryRuns,
      total: s.libraryTotal,
      state: s.libraryState,
      error: s.libraryError,
      query: s.libraryQuery,
    })),
  );
  const setQuery = useApp((s) => s.setLibraryQuery);
  const loadRuns = useApp((s) => s.loadRuns);
  const deleteRun = useApp((s) => s.deleteStoredRun);

  if (state === "error") {
    return (
      <div className="empty-state" role="alert">
        <h2>The library could not be loaded</h2>
        <p>{error}</p>
        <button type="button" onClick={() => void loadRuns()}>
          Try again
        </button>
      </div>
    );
  }
  if (state !== "loading" && runs.length === 0) {
    const filtered =
      query.q !== "" ||
      query.model !== "" ||
      query.status !== "" ||
      (query.source !== "not-experiment" && query.source !== "any");
    return (
      <div className="empty-state">
        <h2>{filtered ? "No run matches" : "No runs stored yet"}</h2>
        <p>
          {query.source === "not-experiment" && !filtered ? (
            <>
              Nothing from the page, the API or the CLI yet. Experiment runs are hidden: choose{" "}
              <em>Everything</em> or <em>Experiments</em> under Source to see them.
            </>
          ) : filtered ? (
            "Clear the search or the filters to see all runs."
          ) : (
            <>
              Every run from the <a href={routeHref({ tab: "playground" })}>playground</a>, the API
              and the CLI is stored here as it streams. You can also import a JSONL file exported
              from another Thinkscope.
            </>
          )}
        </p>
      </div>
    );
  }
  const from = total === 0 ? 0 : query.offset + 1;
  const to = Math.min(query.offset + runs.length, total);
  return (
    <>
      <div className="table-scroll">
        <table className="run-table run-cards" aria-busy={state === "loading"}>
          <caption className="visually-hidden">Stored runs</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Prompt</th>
              <th scope="col">Answer</th>
              <th scope="col">Model</th>
              <th scope="col">Budget</th>
              <th scope="col" className="num">
                Thinking
              </th>
              <th scope="col" className="num">
                Waits
              </th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {runs.map((run) => (
              <tr key={run.id}>
                <td data-label="When" className="when-cell">
                  {formatDate(run.createdAt)}
                  {run.source !== "page" && <span className="source-tag">{run.source}</span>}
                </td>
                <td data-label="Prompt" className="prompt-cell">
                  <a href={routeHref({ tab: "library", runId: run.id })} title={run.prompt}>
                    {run.prompt.slice(0, 200) || "(empty prompt)"}
                  </a>
                </td>
                <td data-label="Answer" className="answer-cell">
                  <FinalAnswer text={run.answer} />{" "}
                  <VerdictBadge
                    answer={run.answer}
                    reference={referenceFromPrompt(run.prompt)}
                    pending={run.status !== "completed"}
                  />
                </td>
                <td data-label="Model">{run.model ?? run.backend}</td>
                <td data-label="Budget">{budgetSummary(run)}</td>
                <td data-label="Thinking" className="num">
                  {formatCount(run.summary?.thinking_tokens)}
                </td>
                <td data-label="Waits" className="num">
                  {formatCount(run.summary?.waits)}
                </td>
                <td data-label="Status">
                  <span className="status-tag" data-status={run.status}>
                    {run.status}
                  </span>
                </td>
                <td className="actions-cell">
                  <button
                    type="button"
                    className="small danger"
                    aria-label={`Delete run from ${formatDate(run.createdAt)}`}
                    onClick={() => {
                      if (window.confirm("Delete this run? This cannot be undone."))
                        void deleteRun(run.id);
                    }}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav className="pager" aria-label="Pages">
        <button
          type="button"
          className="small"
          disabled={query.offset === 0}
          onClick={() => setQuery({ offset: Math.max(0, query.offset - query.limit) })}
        >
          ← Newer
        </button>
        <span aria-live="polite">
          {state === "loading" ? "Loading…" : `${from}–${to} of ${formatCount(total)}`}
        </span>
        <button
          type="button"
          className="small"
          disabled={query.offset + query.limit >= total}
          onClick={() => setQuery({ offset: query.offset + query.limit })}
        >
          Older →
        </button>
      </nav>
    </>
  );
}

/** Stored runs: search, filter, page, open (replay), delete, export, import. */
export default function LibraryView({ runId }: { runId: string | null }) {
  const store = useAppStore();
  useEffect(() => {
    if (runId === null) void store.getState().loadRuns();
  }, [store, runId]);

  if (runId !== null)
    return <ReplayView runId={runId} onClose={() => navigate({ tab: "library", runId: null })} />;
  return (
    <div className="library">
      <section className="panel" aria-label="Run library">
        <Filters />
        <RunTable />
      </section>
    </div>
  );
}
