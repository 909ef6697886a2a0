/**
 * Experiments for every entry point (the HTTP API, the page's WebSocket,
 * the CLI): create and start, list, read with progress and results, cancel,
 * resume, delete, export, and follow progress. One runner per experiment
 * running in this process; an experiment another process runs (the CLI on
 * the same database) is read from the store.
 */
import { ThinkscopeError } from "@thinkscope/core";
import type {
  BudgetForcing,
  ExperimentCreate,
  ExperimentDetail,
  ExperimentList,
  ExperimentProgress,
  ExperimentProgressMessage,
  ExperimentResults,
  ExperimentResultsDocument,
  ExperimentStatus,
  ExperimentSummary,
} from "@thinkscope/protocol";
import type { FastifyBaseLogger } from "fastify";
import type { BackendRegistry } from "../../backends/registry.ts";
import type { RunService } from "../run-service.ts";
import type { DatasetLoaderOptions } from "./dataset-loader.ts";
import { planExperiment } from "./experiment-plan.ts";
import { computeResults } from "./experiment-results.ts";
import { ExperimentRunner, type RunnerOptions } from "./experiment-runner.ts";
import type { ExperimentStore } from "../../store/experiment-store.ts";
import { newExperimentId, type ExperimentRecord } from "../../store/experiment-store.ts";
import { itemsCsv, settingsCsv } from "./results-csv.ts";

export interface ExperimentServiceDeps {
  runs: RunService;
  /** Where experiments and their items are kept. */
  store: ExperimentStore;
  backends: BackendRegistry;
  log: FastifyBaseLogger;
  datasets: DatasetLoaderOptions;
  /** The operator's budget caps (the server's admission); none in the CLI. */
  checkBudgets?: (budgetForcing: BudgetForcing) => unknown;
  runner?: RunnerOptions;
}

export type ProgressListener = (message: ExperimentProgressMessage) => void;

export class ExperimentService {
  readonly store: ExperimentStore;
  private readonly runners = new Map<string, ExperimentRunner>();
  private readonly listeners = new Map<string, Set<ProgressListener>>();

  constructor(private readonly deps: ExperimentServiceDeps) {
    this.store = deps.store;
  }

  /** Experiments left running by a stopped or crashed process become `interrupted`. */
  recoverInterrupted(): string[] {
    return this.store.recoverInterrupted();
  }

  /** Validates the request, stores the experiment with its problems, and starts it. */
  async create(input: ExperimentCreate): Promise<ExperimentDetail> {
    const plan = await planExperiment(input, {
      backends: this.deps.backends,
      datasets: this.deps.datasets,
      checkBudgets: this.deps.checkBudgets,
    });
    const record = this.store.create({
      id: newExperimentId(),
      name: plan.name,
      preset: plan.preset,
      backend: plan.entry.id,
      model: plan.model ?? null,
      dataset: plan.dataset,
      problems: plan.problems,
      spec: plan.spec,
    });
    this.startRunner(record);
    return this.detail(record.id);
  }

  list(limit = 50, offset = 0): ExperimentList {
    const { experiments, total } = this.store.list(limit, offset);
    return { experiments: experiments.map((record) => this.summaryOf(record)), total };
  }

  detail(id: string): ExperimentDetail {
    const record = this.require(id);
    const runner = this.runners.get(id);
    return {
      ...this.summaryOf(record),
      spec: record.spec,
      throughput: runner ? runner.throughput() : record.throughput,
      results: this.results(record),
    };
  }

  /** The results object of `results.json` and `thinkscope experiment --json`. */
  resultsDocument(id: string): ExperimentResultsDocument {
    const record = this.require(id);
    const summary = this.summaryOf(record);
    const runner = this.runners.get(id);
    return {
      experiment_id: record.id,
      name: record.name,
      status: summary.status,
      preset: record.preset,
      dataset: record.dataset,
      backend: record.backend,
      model: record.model,
      samples: record.spec.samples,
      sampling: record.spec.sampling,
      prompt: record.spec.prompt,
      progress: summary.progress,
      throughput: runner ? runner.throughput() : record.throughput,
      ...this.results(record),
    };
  }

  /** The CSV export: one row per setting, or one row per item. */
  csv(id: string, view: "settings" | "items"): string {
    const record = this.require(id);
    if (view === "settings") return settingsCsv(this.results(record));
    return itemsCsv(this.store.problems(id), record.spec, this.store.items(id));
  }

  /** Stops a running experiment: running items are aborted and go back to pending. */
  async cancel(id: string): Promise<ExperimentDetail> {
    const record = this.require(id);
    const runner = this.runners.get(id);
    if (!runner) {
      if (record.status === "running") throw runningElsewhere(id);
      throw new ThinkscopeError(
        "experiment_not_running",
        `Experiment ${id} is ${record.status}, not running.`,
        { status: 409 },
      );
    }
    await runner.stop("cancel");
    return this.detail(id);
  }

  /** Runs a stopped experiment's pending and failed items, in a new session. */
  resume(id: string): ExperimentDetail {
    const record = this.require(id);
    if (this.runners.has(id) || record.status === "running") {
      if (!this.runners.has(id)) throw runningElsewhere(id);
      throw new ThinkscopeError("experiment_running", `Experiment ${id} is already running.`, {
        status: 409,
      });
    }
    if (record.status === "completed") {
      throw new ThinkscopeError(
        "experiment_completed",
        `Experiment ${id} is completed: every item is done.`,
        { status: 409 },
      );
    }
    this.store.startSession(id);
    this.startRunner(this.require(id));
    return this.detail(id);
  }

  /** Deletes a stopped experiment with its items and runs. */
  delete(id: string): void {
    const record = this.require(id);
    if (this.runners.has(id) || record.status === "running") {
      throw new ThinkscopeError(
        "experiment_running",
        `Experiment ${id} is running; cancel it first.`,
        { status: 409 },
      );
    }
    this.store.delete(id);
  }

  /** Settles with the status the current session ends with (the stored status when none runs). */
  async settled(id: string): Promise<ExperimentStatus> {
    const runner = this.runners.get(id);
    return runner ? runner.done : this.require(id).status;
  }

  /**
   * Calls `listener` with the experiment's progress now and on every change.
   * Returns the function that stops listening; throws 404 for an unknown id.
   */
  subscribe(id: string, listener: ProgressListener): () => void {
    const message = this.progressMessage(id);
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(listener);
    listener(message);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(id) === set) this.listeners.delete(id);
    };
  }

  progressMessage(id: string): ExperimentProgressMessage {
    const summary = this.summaryOf(this.require(id));
    return {
      type: "experiment.progress",
      experimentId: id,
      status: summary.status,
      progress: summary.progress,
      error: summary.error,
    };
  }

  /** Stops every running experiment as `interrupted` (server shutdown); they resume later. */
  async shutdown(): Promise<void> {
    await Promise.all([...this.runners.values()].map((runner) => runner.stop("shutdown")));
  }

  private startRunner(record: ExperimentRecord): void {
    const problems = this.store.problems(record.id);
    const runner = new ExperimentRunner(
      { runs: this.deps.runs, store: this.store, log: this.deps.log },
      record,
      problems,
      () => this.changed(record.id),
      this.deps.runner,
    );
    this.runners.set(record.id, runner);
    void runner.done.then(
      () => this.runners.get(record.id) === runner && this.runners.delete(record.id),
      (error: unknown) => {
        this.deps.log.error(
          { err: error, experimentId: record.id },
          "an experiment session failed",
        );
        this.runners.delete(record.id);
      },
    );
  }

  private changed(id: string): void {
    const set = this.listeners.get(id);
    if (!set || set.size === 0) return;
    // Several changes per item: the runner's own counters, without a read of the store.
    const runner = this.runners.get(id);
    const message: ExperimentProgressMessage = runner
      ? {
          type: "experiment.progress",
          experimentId: id,
          status: runner.currentStatus,
          progress: runner.progress(),
          error: runner.error,
        }
      : this.progressMessage(id);
    for (const listener of set) {
      try {
        listener(message);
      } catch (error) {
        this.deps.log.warn({ err: error, experimentId: id }, "a progress listener failed");
      }
    }
  }

  private summaryOf(record: ExperimentRecord): ExperimentSummary {
    const runner = this.runners.get(record.id);
    const status = runner ? runner.currentStatus : record.status;
    return {
      id: record.id,
      name: record.name,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      status,
      preset: record.preset,
      dataset: record.dataset,
      backend: record.backend,
      model: record.model,
      settings: record.spec.settings.length,
      samples: record.spec.samples,
      progress: runner ? runner.progress() : this.storedProgress(record),
      error: runner ? runner.error : record.error,
    };
  }

  private storedProgress(record: ExperimentRecord): ExperimentProgress {
    const counts = this.store.counts(record.id);
    return {
      total: counts.total,
      done: counts.done,
      running: counts.running,
      failed: counts.failed,
      pending: counts.pending,
      tokens: counts.thinkingTokens + counts.answerTokens,
      thinkingTokens: counts.thinkingTokens,
      elapsedMs: record.elapsedMs,
      etaMs: null,
      inFlight: 0,
      concurrency: record.spec.concurrency,
    };
  }

  private results(record: ExperimentRecord): ExperimentResults {
    return computeResults(this.store.problems(record.id), record.spec, this.store.items(record.id));
  }

  private require(id: string): ExperimentRecord {
    const record = this.store.get(id);
    if (!record) {
      throw new ThinkscopeError("experiment_not_found", `No experiment with id "${id}".`, {
        status: 404,
      });
    }
    return record;
  }
}

function runningElsewhere(id: string): ThinkscopeError {
  return new ThinkscopeError(
    "experiment_running_elsewhere",
    `Experiment ${id} is being run by another process (the CLI?); stop it there.`,
    { status: 409 },
  );
}
