/**
 * Resample analyses (protocol/resample.ts): fork a finished run `n` times at
 * each point, let each sample finish under the run's settings, and fold the
 * samples' final answers into a distribution per point and an importance
 * per span between points. Samples run one after another: on the embedded
 * backend each reuses the KV cache of the prefix it shares with the last.
 */
import {
  InvalidRequestError,
  ThinkscopeError,
  continuationTokens,
  extractAnswer,
  grade,
} from "@thinkscope/core";
import {
  RESAMPLE_DEFAULT_N,
  RESAMPLE_DEFAULT_SAMPLING,
  answerShift,
  sentencePoints,
  splitTrace,
  type EngineEvent,
  type ResampleAnalysis,
  type ResamplePoint,
  type ResampleRequest,
  type ResampleSample,
  type RunDetail,
  type Sampling,
} from "@thinkscope/protocol";
import type { FastifyBaseLogger } from "fastify";
import type { ExperimentStore } from "../../store/experiment-store.ts";
import type { ResampleStore } from "../../store/resample-store.ts";
import type { RunStore } from "../../store/run-store.ts";
import type { RunService } from "../run-service.ts";

export interface ResampleServiceDeps {
  runs: RunService;
  runStore: RunStore;
  store: ResampleStore;
  experiments: ExperimentStore;
  log: FastifyBaseLogger;
}

type Listener = (analysis: ResampleAnalysis) => void;

export class ResampleService {
  private readonly active = new Map<
    string,
    { abort: AbortController; listeners: Set<Listener>; done: Promise<void> }
  >();

  constructor(private readonly deps: ResampleServiceDeps) {}

  /** Validates the request, stores the analysis as `running`, and starts it; returns it at once. */
  start(runId: string, request: ResampleRequest): ResampleAnalysis {
    const run = this.deps.runStore.get(runId);
    if (!run) throw new ThinkscopeError("run_not_found", `No run ${runId}.`, { status: 404 });
    if (run.status === "running") {
      throw new ThinkscopeError(
        "run_running",
        `Run ${runId} is still running: resample it once it has finished.`,
        { status: 409 },
      );
    }
    const points = resamplePoints(run.events, request.points);
    const n = request.n ?? RESAMPLE_DEFAULT_N;
    const now = new Date().toISOString();
    const analysis: ResampleAnalysis = {
      id: newAnalysisId(),
      runId,
      createdAt: now,
      updatedAt: now,
      status: "running",
      n,
      sampling: samplingFor(run, request.sampling),
      reference: request.reference ?? this.deps.experiments.referenceOf(runId),
      done: 0,
      total: points.length * n,
      points: points.map((at) => ({ at, samples: [], answers: [], accuracy: null })),
      spans: [],
      error: null,
    };
    this.deps.store.save(analysis);
    const abort = new AbortController();
    const listeners = new Set<Listener>();
    const done = this.drive(analysis, run, abort.signal, listeners).finally(() =>
      this.active.delete(analysis.id),
    );
    this.active.set(analysis.id, { abort, listeners, done });
    return structuredClone(analysis);
  }

  get(id: string): ResampleAnalysis | null {
    return this.deps.store.get(id);
  }

  /** A run's analyses, newest first. */
  forRun(runId: string): ResampleAnalysis[] {
    return this.deps.store.forRun(runId);
  }

  /** Calls `listener` with each new state of a running analysis; returns the unsubscribe. */
  watch(id: string, listener: Listener): () => void {
    const active = this.active.get(id);
    if (!active) return () => {};
    active.listeners.add(listener);
    return () => active.listeners.delete(listener);
  }

  /** Stops every running analysis; each is stored as `interrupted`. */
  async shutdown(): Promise<void> {
    const running = [...this.active.values()];
    for (const { abort } of running) abort.abort();
    await Promise.allSettled(running.map(({ done }) => done));
  }

  private async drive(
    analysis: ResampleAnalysis,
    run: RunDetail,
    signal: AbortSignal,
    listeners: Set<Listener>,
  ): Promise<void> {
    const publish = () => {
      analysis.updatedAt = new Date().toISOString();
      this.deps.store.save(analysis);
      for (const listener of listeners) listener(structuredClone(analysis));
    };
    const seed = analysis.sampling.seed ?? 0;
    try {
      for (const point of analysis.points) {
        for (let i = 0; i < analysis.n; i++) {
          if (signal.aborted) {
            analysis.status = "interrupted";
            publish();
            return;
          }
          // Sample i uses seed + i at every point: the points differ only in their prefix.
          point.samples.push(
            await this.sample(run, point.at, { ...analysis.sampling, seed: seed + i }, analysis),
          );
          analysis.done += 1;
          fold(point, analysis.reference !== null);
          analysis.spans = spansOf(analysis, run.events);
          publish();
        }
      }
      analysis.status = "completed";
    } catch (error) {
      analysis.status = "failed";
      analysis.error = ThinkscopeError.isInstance(error)
        ? { code: error.code, message: error.message }
        : { code: "internal_error", message: String(error) };
      this.deps.log.warn({ analysis: analysis.id, err: error }, "a resample analysis failed");
    }
    publish();
  }

  /** One sample: a fork at `at` finished under the run's settings, its answer extracted and graded. */
  private async sample(
    run: RunDetail,
    at: number,
    sampling: Sampling,
    analysis: ResampleAnalysis,
  ): Promise<ResampleSample> {
    const active = await this.deps.runs.start({
      fork: { run_id: run.id, at },
      mode: run.mode,
      sampling,
      source: "api",
      resampleId: analysis.id,
    });
    for await (const _event of active.events()) {
      // The transcript folds the events.
    }
    const text = active.transcript.answerText;
    const failed = active.transcript.error !== null;
    const answer = failed ? null : (extractAnswer(text)?.answer ?? null);
    const correct =
      analysis.reference === null ? null : !failed && grade(text, analysis.reference).correct;
    return { runId: active.id, answer, correct };
  }
}

/** The token points to fork at: the sentence starts (and the thinking's end), or the ones given. */
export function resamplePoints(
  events: readonly EngineEvent[],
  points: ResampleRequest["points"],
): number[] {
  if (points === "sentences") {
    const found = sentencePoints(splitTrace(events));
    if (found.length < 2) {
      throw new InvalidRequestError(
        "invalid_points",
        "This run's thinking has no sentence to resample.",
      );
    }
    return found;
  }
  const total = continuationTokens(events);
  const bad = points.find((at) => at > total);
  if (bad !== undefined) {
    throw new InvalidRequestError(
      "invalid_points",
      `Point ${bad} is past the run's ${total} continuation tokens.`,
    );
  }
  return [...new Set(points)].sort((a, b) => a - b);
}

/** A greedy run's samples would all be one: they get the default sampling instead. */
function samplingFor(run: RunDetail, requested: Sampling | undefined): Sampling {
  if (requested) return requested;
  if ((run.sampling.temperature ?? 0) > 0) return run.sampling;
  return {
    ...RESAMPLE_DEFAULT_SAMPLING,
    ...(run.sampling.seed !== undefined ? { seed: run.sampling.seed } : {}),
  };
}

function fold(point: ResamplePoint, graded: boolean): void {
  const counts = new Map<string | null, number>();
  for (const sample of point.samples)
    counts.set(sample.answer, (counts.get(sample.answer) ?? 0) + 1);
  point.answers = [...counts]
    .map(([answer, count]) => ({ answer, count }))
    .sort((a, b) => b.count - a.count || String(a.answer).localeCompare(String(b.answer)));
  point.accuracy = graded
    ? point.samples.filter((s) => s.correct).length / point.samples.length
    : null;
}

/** Spans between consecutive points whose samples are all in. */
function spansOf(analysis: ResampleAnalysis, events: readonly EngineEvent[]) {
  const complete = (p: ResamplePoint) => p.samples.length === analysis.n;
  const spans: ResampleAnalysis["spans"] = [];
  for (let i = 0; i + 1 < analysis.points.length; i++) {
    const from = analysis.points[i]!;
    const to = analysis.points[i + 1]!;
    if (!complete(from) || !complete(to)) break;
    spans.push({
      from: from.at,
      to: to.at,
      text: textBetween(events, from.at, to.at),
      importance: answerShift(from.answers, to.answers),
      accuracyChange:
        from.accuracy === null || to.accuracy === null ? null : to.accuracy - from.accuracy,
    });
  }
  return spans;
}

/** The continuation's text from token `from` to token `to` (whole events; a chunk is not cut). */
function textBetween(events: readonly EngineEvent[], from: number, to: number): string {
  let count = 0;
  let text = "";
  for (const event of events) {
    if (event.type !== "delta" && event.type !== "injection") continue;
    if (count >= from && count < to) text += event.text;
    count += event.tokens;
    if (count >= to) break;
  }
  return text;
}

function newAnalysisId(): string {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return "rs_" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
