import { useCallback, useEffect, useMemo, useState } from "react";
import {
  sentencePoints,
  splitTrace,
  type ResampleAnalysis,
  type RunDetail,
  type RunSpec,
  type RunSummary,
} from "@thinkscope/protocol";
import { useApp, useAppStore } from "../../store/app-store.ts";
import { createLabApi } from "../../lib/lab-api.ts";
import { snapPoint, tokenPieces } from "../../lib/trace-tokens.ts";
import { TraceView } from "../trace/trace-view.tsx";
import { BranchCompare } from "./branch-compare.tsx";
import { BranchTree } from "./branch-tree.tsx";
import { ForkControls } from "./fork-controls.tsx";
import { ImportanceStrip } from "./importance-strip.tsx";
import { PointPicker } from "./point-picker.tsx";
import "./lab.css";

/**
 * The trace laboratory under a finished run: pick a point in its text, fork
 * there (insert a text, or cut and force the answer) and watch the branch
 * stream beside it; see the run's family as a tree and compare two
 * branches where they diverge; resample every sentence to see which one
 * decided the answer. Keyed by the run, so its state starts afresh for each.
 */
export function TraceLab({ detail }: { detail: RunDetail }) {
  const store = useAppStore();
  const api = useMemo(() => createLabApi(), []);
  const pieces = useMemo(() => tokenPieces(detail.events), [detail.events]);
  const split = useMemo(() => splitTrace(detail.events), [detail.events]);
  const boundaries = useMemo(() => sentencePoints(split), [split]);
  const [point, setPoint] = useState<number | null>(null);
  const [branchKey, setBranchKey] = useState<string | null>(null);
  const branch = useApp((s) => (branchKey ? (s.runs[branchKey] ?? null) : null));
  const [family, setFamily] = useState<RunSummary[]>([]);
  const [picked, setPicked] = useState<string[]>([]);
  const [analysis, setAnalysis] = useState<ResampleAnalysis | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const loadFamily = useCallback(() => {
    api
      .family(detail.id)
      .then(({ runs }) => setFamily(runs))
      .catch(() => setFamily([]));
  }, [api, detail.id]);

  useEffect(() => {
    loadFamily();
    api
      .resamples(detail.id)
      .then(({ analyses }) => setAnalysis(analyses[0] ?? null))
      .catch(() => {});
  }, [api, detail.id, loadFamily]);

  const branchDone = branch !== null && branch.status !== "running" && branch.status !== "sending";
  useEffect(() => {
    if (branchDone) loadFamily();
  }, [branchDone, loadFamily]);

  // A running analysis streams its progress.
  const following = analysis?.status === "running" ? analysis.id : null;
  useEffect(() => {
    if (!following) return;
    const source = new EventSource(api.resampleEventsUrl(following));
    source.onmessage = (event) => {
      if (event.data === "[DONE]") {
        source.close();
        loadFamily();
        return;
      }
      setAnalysis(JSON.parse(event.data as string) as ResampleAnalysis);
    };
    source.onerror = () => source.close();
    return () => source.close();
  }, [api, following, loadFamily]);

  const thinkingAt = (at: number) =>
    pieces
      .filter(
        (p) =>
          p.at < at &&
          p.phase === "thinking" &&
          p.injection !== "end" &&
          p.injection !== "forced_end",
      )
      .reduce((n, p) => n + p.tokens, 0);
  const inThinking = point !== null && point <= split.thinkingEnd;

  const fork = (extra: Partial<RunSpec>, insert = "") => {
    if (point === null) return;
    const spec: RunSpec = { fork: { run_id: detail.id, at: point }, ...extra };
    if (insert !== "") spec.fork!.insert = insert;
    const key = store.getState().startRun(spec, { group: "lab", label: `fork @${point}` });
    setBranchKey(key);
  };

  const resample = async () => {
    setProblem(null);
    try {
      setAnalysis(await api.startResample(detail.id, { points: "sentences", n: 8 }));
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
  };

  const finished = detail.status !== "running";
  const toggle = (id: string) =>
    setPicked((now) => (now.includes(id) ? now.filter((x) => x !== id) : [...now.slice(-1), id]));

  return (
    <section className="panel trace-lab" aria-label="Trace laboratory">
      <h2>Trace laboratory</h2>
      {!finished ? (
        <p className="hint">Forks and resampling open once the run has finished.</p>
      ) : (
        <>
          <p className="hint">
            Click in the text to pick a point (sentence starts snap), then continue from there.
          </p>
          <div className="lab-columns" data-branch={branch ? "open" : undefined}>
            <div className="lab-parent">
              <PointPicker
                pieces={pieces}
                point={point}
                spans={analysis?.spans ?? []}
                onPick={(at) => setPoint(snapPoint(at, boundaries))}
              />
              {point !== null && (
                <ForkControls
                  point={point}
                  inThinking={inThinking}
                  answer={detail.answer}
                  busy={branch?.status === "sending" || branch?.status === "running"}
                  onContinue={(insert) => fork({}, insert)}
                  onCut={() => fork({ budget_forcing: { max_thinking_tokens: thinkingAt(point) } })}
                />
              )}
            </div>
            {branch && (
              <div className="lab-branch" aria-label="New branch">
                <h3>
                  {branch.label}{" "}
                  <span className="status-tag" data-status={branch.status}>
                    {branch.status}
                  </span>
                </h3>
                {branch.error && (
                  <p className="banner" data-tone="error">
                    {branch.error.message}
                  </p>
                )}
                <TraceView
                  trace={branch.trace}
                  live={branch.status === "running"}
                  label="Branch trace"
                />
              </div>
            )}
          </div>
          <div className="lab-family">
            <h3>Branches</h3>
            <BranchTree runs={family} current={detail.id} picked={picked} onToggle={toggle} />
            {picked.length === 2 && <BranchCompare api={api} ids={[picked[0]!, picked[1]!]} />}
          </div>
          <div className="lab-resample">
            <h3>Where is the answer decided?</h3>
            <p className="hint">
              Resampling forks 8 samples at the start of every sentence and lets each finish; a
              sentence that moves the answer distribution is important.
            </p>
            <button
              type="button"
              className="small"
              onClick={() => void resample()}
              disabled={analysis?.status === "running"}
            >
              Resample every sentence
            </button>
            {problem && (
              <p className="banner" data-tone="error">
                {problem}
              </p>
            )}
            {analysis && (
              <p className="hint" role="status" data-testid="resample-progress">
                {analysis.status === "running"
                  ? `Resampling… ${analysis.done} of ${analysis.total} samples`
                  : `${analysis.status}: ${analysis.done} samples`}{" "}
                {analysis.status !== "running" && (
                  <a href={api.resampleExportUrl(analysis.id)}>Export CSV</a>
                )}
              </p>
            )}
            {analysis && <ImportanceStrip analysis={analysis} />}
          </div>
        </>
      )}
    </section>
  );
}
