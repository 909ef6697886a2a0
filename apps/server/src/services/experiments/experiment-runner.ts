/**
 * One session of an experiment: runs its pending (and failed) items with a
 * bounded number in flight, each as a stored run (source `experiment`), and
 * grades each answer segment. Every item's state is written as it changes,
 * so a crash loses at most the items in flight, which run again on resume.
 *
 * Items are independent and seeded (base seed + sample index), so which
 * session runs an item, and alongside which others, does not change its
 * result: a resumed experiment ends as an uninterrupted one would.
 */
import { grade, ThinkscopeError, type Problem } from "@thinkscope/core";
import type {
  ExperimentProgress,
  ExperimentStatus,
  ExperimentThroughput,
} from "@thinkscope/protocol";
import type { FastifyBaseLogger } from "fastify";
import type { AbortStatus, ActiveRun, RunService } from "../run-service.ts";
import { renderProblemPrompt } from "./experiment-plan.ts";
import type {
  ExperimentRecord,
  ExperimentStore,
  ItemRecord,
} from "../../store/experiment-store.ts";
import { ThroughputRecorder } from "./throughput-recorder.ts";

/** Why a session stops before its queue is empty. */
export type StopReason = "cancel" | "shutdown" | "failing";

export interface RunnerDeps {
  runs: RunService;
  store: ExperimentStore;
  log: FastifyBaseLogger;
}

export interface RunnerOptions {
  /** Tries per item in a session when its run fails with a retryable (upstream) error. */
  attempts?: number;
  /** Wait before an item refused for load (429) or retried goes again (ms). */
  retryDelayMs?: number;
  /** The session stops as `failed` after this many items fail in a row. Default max(5, 2 x concurrency). */
  maxConsecutiveFailures?: number;
}

interface QueuedItem {
  item: ItemRecord;
  attempt: number;
}

export class ExperimentRunner {
  /** Settles with the session's final status once it is stored. */
  readonly done: Promise<ExperimentStatus>;

  private readonly queue: QueuedItem[];
  private readonly active = new Set<ActiveRun>();
  private readonly controller = new AbortController();
  /** How runs stopped by the session's signal are stored; set before the signal aborts. */
  private abortStatus: AbortStatus = "aborted";
  private readonly recorder: ThroughputRecorder;
  private readonly sessionStart = performance.now();
  private readonly counts: { pending: number; running: number; done: number; failed: number };
  private readonly total: number;
  private tokens: number;
  private thinkingTokens: number;
  private doneThisSession = 0;
  private consecutiveFailures = 0;
  private lastError: { code: string; message: string } | null = null;
  private stopReason: StopReason | null = null;
  private status: ExperimentStatus = "running";
  private readonly attempts: number;
  private readonly retryDelayMs: number;
  private readonly maxConsecutiveFailures: number;

  constructor(
    private readonly deps: RunnerDeps,
    private readonly record: ExperimentRecord,
    private readonly problems: readonly Problem[],
    private readonly onChange: () => void,
    options: RunnerOptions = {},
  ) {
    const { store } = deps;
    const counts = store.counts(record.id);
    this.counts = {
      pending: counts.pending + counts.running,
      running: 0,
      done: counts.done,
      failed: counts.failed,
    };
    this.total = counts.total;
    this.tokens = counts.thinkingTokens + counts.answerTokens;
    this.thinkingTokens = counts.thinkingTokens;
    this.queue = store.runnableItems(record.id).map((item) => ({ item, attempt: 1 }));
    const { concurrency } = record.spec;
    this.recorder = new ThroughputRecorder(concurrency);
    this.attempts = options.attempts ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 1_000;
    this.maxConsecutiveFailures = options.maxConsecutiveFailures ?? Math.max(5, 2 * concurrency);
    this.done = this.session();
  }

  get id(): string {
    return this.record.id;
  }

  get currentStatus(): ExperimentStatus {
    return this.status;
  }

  /** The last item's failure while running; why it failed once it has. */
  get error(): { code: string; message: string } | null {
    return this.status === "running" || this.status === "failed" ? this.lastError : null;
  }

  progress(): ExperimentProgress {
    const elapsedThisSession = performance.now() - this.sessionStart;
    const remaining = this.counts.pending + this.counts.running;
    return {
      total: this.total,
      ...this.counts,
      tokens: this.tokens,
      thinkingTokens: this.thinkingTokens,
      elapsedMs: Math.round(
        this.record.elapsedMs + (this.status === "running" ? elapsedThisSession : 0),
      ),
      etaMs:
        this.status !== "running"
          ? null
          : remaining === 0
            ? 0
            : this.doneThisSession > 0
              ? Math.round((elapsedThisSession / this.doneThisSession) * remaining)
              : null,
      inFlight: this.recorder.inFlight,
      concurrency: this.record.spec.concurrency,
    };
  }

  throughput(): ExperimentThroughput {
    return this.recorder.snapshot();
  }

  /**
   * Stops the session: no item starts any more, running ones are aborted
   * (their runs end `aborted`, or `interrupted` on shutdown) and go back to
   * pending. The first reason given wins. Resolves once the session is stored.
   */
  stop(reason: StopReason): Promise<ExperimentStatus> {
    if (this.stopReason === null) {
      this.stopReason = reason;
      this.abortStatus = reason === "shutdown" ? "interrupted" : "aborted";
      for (const run of this.active) run.abort(this.abortStatus);
      this.controller.abort();
    }
    return this.done;
  }

  private async session(): Promise<ExperimentStatus> {
    // Let the caller subscribe before the first change is reported.
    await Promise.resolve();
    const workers = Array.from({ length: this.record.spec.concurrency }, () => this.worker());
    await Promise.all(workers);
    const status = this.finalStatus();
    const elapsedMs = Math.round(this.record.elapsedMs + performance.now() - this.sessionStart);
    try {
      this.deps.store.finishSession(this.record.id, status, {
        elapsedMs,
        throughput: this.recorder.snapshot(),
        error: status === "failed" ? this.lastError : null,
      });
    } catch (error) {
      this.deps.log.error(
        { err: error, experimentId: this.id },
        "could not store the experiment's end",
      );
    }
    this.counts.pending += this.counts.running;
    this.counts.running = 0;
    this.record.elapsedMs = elapsedMs;
    this.status = status;
    this.onChange();
    return status;
  }

  private finalStatus(): Exclude<ExperimentStatus, "running"> {
    switch (this.stopReason) {
      case "cancel":
        return "cancelled";
      case "shutdown":
        return "interrupted";
      case "failing":
        return "failed";
      case null:
        return this.counts.failed > 0 ? "failed" : "completed";
    }
  }

  private async worker(): Promise<void> {
    try {
      while (this.stopReason === null) {
        const next = this.queue.shift();
        if (!next) return;
        await this.runItem(next);
      }
    } catch (error) {
      // A store write failed (a full disk): stop; items not stored as done run again on resume.
      this.deps.log.error({ err: error, experimentId: this.id }, "an experiment worker failed");
      this.lastError = {
        code: "internal_error",
        message: "The experiment could not store its progress.",
      };
      void this.stop("failing");
    }
  }

  private async runItem({ item, attempt }: QueuedItem): Promise<void> {
    const { store, runs } = this.deps;
    const { id, spec } = this.record;
    const problem = this.problems[item.problem];
    const setting = spec.settings[item.setting];
    if (!problem || !setting)
      throw new Error(`Experiment ${id} has no item ${JSON.stringify(item)}`);

    const abortStatus = () => this.abortStatus;
    store.markRunning(id, item);
    if (item.status === "failed") this.counts.failed--;
    else this.counts.pending--;
    item.status = "running";
    this.counts.running++;
    this.recorder.change(1);
    this.onChange();

    // `retry`: a retryable failure, tried again; `later`: refused for load, tried again as the same attempt.
    let outcome: "done" | "failed" | "pending" | "retry" | "later" = "pending";
    let run: ActiveRun | null = null;
    // One signal per item, so whatever a backend hangs on it goes away with the item.
    const itemController = new AbortController();
    const stopItem = () => itemController.abort();
    this.controller.signal.addEventListener("abort", stopItem, { once: true });
    if (this.controller.signal.aborted) stopItem();
    try {
      run = await runs.start(
        {
          prompt: renderProblemPrompt(spec.prompt.template, problem),
          mode: spec.prompt.mode,
          // A model sweep's setting runs on its own model's backend.
          backend: setting.backend ?? this.record.backend,
          ...(setting.model !== undefined
            ? { model: setting.model }
            : this.record.model !== null
              ? { model: this.record.model }
              : {}),
          budgetForcing: setting.budget_forcing,
          sampling: { ...spec.sampling, seed: item.seed },
          source: "experiment",
          experimentId: id,
          reference: problem.answer,
          ...(spec.vote ? { confidenceWindow: spec.vote.window } : {}),
        },
        {
          signal: itemController.signal,
          // Read when the signal aborts the run, so a shutdown stores it as interrupted.
          get abortStatus() {
            return abortStatus();
          },
        },
      );
      this.active.add(run);
      for await (const event of run.events()) void event;
      const status = await run.done;
      if (status === "completed") {
        const summary = run.transcript.summary();
        const graded = grade(run.transcript.answerText, problem.answer);
        const { minThinkingTokens, maxThinkingTokens } = run.settings;
        store.markDone(id, item, {
          runId: run.id,
          correct: graded.correct,
          extracted: graded.extracted,
          thinkingTokens: summary.thinking_tokens,
          answerTokens: summary.answer_tokens,
          waits: summary.waits,
          forcedEnd: summary.forced_end,
          withinBudget:
            summary.thinking_tokens >= minThinkingTokens &&
            summary.thinking_tokens <= maxThinkingTokens,
          confidence: run.transcript.stats?.lowestGroupLogprob ?? null,
        });
        this.tokens += summary.thinking_tokens + summary.answer_tokens;
        this.thinkingTokens += summary.thinking_tokens;
        outcome = "done";
      } else if (status === "error") {
        const error = run.transcript.error ?? {
          code: "run_failed",
          message: "The run failed.",
          retryable: false,
        };
        outcome = this.failure(item, run.id, error, error.retryable && attempt < this.attempts);
      } else if (this.stopReason === null) {
        // Interrupted by someone else (the server is stopping and aborted every run).
        void this.stop("shutdown");
      }
    } catch (error) {
      if (this.stopReason !== null) outcome = "pending";
      else if (ThinkscopeError.isInstance(error) && error.status === 429) outcome = "later";
      else {
        const known = ThinkscopeError.isInstance(error);
        if (!known)
          this.deps.log.error({ err: error, experimentId: id }, "an experiment item failed");
        const failure = known
          ? { code: error.code, message: error.message, retryable: error.retryable }
          : { code: "internal_error", message: "The item could not be run.", retryable: false };
        outcome = this.failure(item, null, failure, failure.retryable && attempt < this.attempts);
      }
    } finally {
      if (run) this.active.delete(run);
      this.controller.signal.removeEventListener("abort", stopItem);
    }

    this.counts.running--;
    this.recorder.change(-1);
    if (outcome === "done") {
      item.status = "done";
      this.counts.done++;
      this.doneThisSession++;
      this.consecutiveFailures = 0;
    } else if (outcome === "failed") {
      item.status = "failed";
      this.counts.failed++;
      this.consecutiveFailures++;
      if (this.consecutiveFailures >= this.maxConsecutiveFailures) void this.stop("failing");
    } else {
      store.markPending(id, item);
      item.status = "pending";
      this.counts.pending++;
      if (outcome !== "pending" && this.stopReason === null) {
        await this.pause(this.retryDelayMs);
        this.queue.push({ item, attempt: outcome === "later" ? attempt : attempt + 1 });
      }
    }
    this.onChange();
  }

  /** Records a failed run; returns `retry` when it is worth another try in this session. */
  private failure(
    item: ItemRecord,
    runId: string | null,
    error: { code: string; message: string },
    retry: boolean,
  ): "failed" | "retry" {
    this.lastError = { code: error.code, message: error.message };
    if (retry) return "retry";
    this.deps.store.markFailed(this.record.id, item, runId, this.lastError);
    return "failed";
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.controller.signal;
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
