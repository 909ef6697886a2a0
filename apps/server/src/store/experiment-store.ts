/**
 * Experiments and their items in the run store's SQLite file (tables from
 * migration 3). An experiment row holds a snapshot of its problems and its
 * resolved spec, so a resume depends on nothing but this database; an item
 * row holds one (problem, setting, sample) and, once done, its grade and
 * token counts, so results are computed without reading the runs back.
 */
import { randomBytes } from "node:crypto";
import type { Database, Statement } from "better-sqlite3";
import type { Problem } from "@thinkscope/core";
import type {
  ExperimentDatasetInfo,
  ExperimentItemStatus,
  ExperimentSpec,
  ExperimentStatus,
  ExperimentThroughput,
} from "@thinkscope/protocol";
import { processAlive } from "./run-store.ts";

/** An experiment id (`exp_` and 16 hex digits). */
export function newExperimentId(): string {
  return "exp_" + randomBytes(8).toString("hex");
}

export interface ExperimentRecord {
  id: string;
  createdAt: string;
  updatedAt: string;
  name: string;
  status: ExperimentStatus;
  preset: string | null;
  backend: string;
  model: string | null;
  dataset: ExperimentDatasetInfo;
  spec: ExperimentSpec;
  elapsedMs: number;
  throughput: ExperimentThroughput | null;
  error: { code: string; message: string } | null;
}

export interface NewExperiment {
  id: string;
  name: string;
  preset: string | null;
  backend: string;
  model: string | null;
  dataset: ExperimentDatasetInfo;
  problems: Problem[];
  spec: ExperimentSpec;
}

export interface ItemKey {
  problem: number;
  setting: number;
  sample: number;
}

export interface ItemRecord extends ItemKey {
  status: ExperimentItemStatus;
  seed: number;
  runId: string | null;
  correct: boolean | null;
  extracted: string | null;
  thinkingTokens: number | null;
  answerTokens: number | null;
  waits: number | null;
  forcedEnd: boolean | null;
  withinBudget: boolean | null;
  /** The sample's lowest group log-probability, when the experiment votes by confidence. */
  confidence: number | null;
  error: { code: string; message: string } | null;
}

/** What a done item stores. */
export interface ItemOutcome {
  runId: string;
  correct: boolean;
  extracted: string | null;
  thinkingTokens: number;
  answerTokens: number;
  waits: number;
  forcedEnd: boolean;
  withinBudget: boolean;
  confidence?: number | null;
}

export interface ItemCounts {
  pending: number;
  running: number;
  done: number;
  failed: number;
  total: number;
  thinkingTokens: number;
  answerTokens: number;
}

interface ExperimentRow {
  id: string;
  created_at: string;
  updated_at: string;
  name: string;
  status: ExperimentStatus;
  preset: string | null;
  backend: string;
  model: string | null;
  dataset: string;
  spec: string;
  elapsed_ms: number;
  throughput: string | null;
  error_code: string | null;
  error_message: string | null;
  owner_pid: number | null;
}

interface ItemRow {
  problem: number;
  setting: number;
  sample: number;
  status: ExperimentItemStatus;
  seed: number;
  run_id: string | null;
  correct: number | null;
  extracted: string | null;
  thinking_tokens: number | null;
  answer_tokens: number | null;
  waits: number | null;
  forced_end: number | null;
  within_budget: number | null;
  confidence: number | null;
  error_code: string | null;
  error_message: string | null;
}

// Every column but the problems snapshot, which only the runner needs.
const EXPERIMENT_COLUMNS = `id, created_at, updated_at, name, status, preset, backend, model, dataset, spec,
  elapsed_ms, throughput, error_code, error_message, owner_pid`;

export class ExperimentStore {
  private readonly statements: ReturnType<typeof prepareStatements>;

  constructor(private readonly db: Database) {
    this.statements = prepareStatements(db);
  }

  /**
   * Stores a new experiment as `running`, owned by this process, with every
   * item pending; item seeds are the base seed plus the sample index.
   */
  create(experiment: NewExperiment): ExperimentRecord {
    const now = new Date().toISOString();
    const { spec } = experiment;
    const insertItem = this.statements.insertItem;
    this.db.transaction(() => {
      this.statements.insert.run({
        id: experiment.id,
        created_at: now,
        updated_at: now,
        name: experiment.name,
        status: "running",
        preset: experiment.preset,
        backend: experiment.backend,
        model: experiment.model,
        dataset: JSON.stringify(experiment.dataset),
        problems: JSON.stringify(experiment.problems),
        spec: JSON.stringify(spec),
        owner_pid: process.pid,
      });
      for (let problem = 0; problem < experiment.problems.length; problem++) {
        for (let setting = 0; setting < spec.settings.length; setting++) {
          for (let sample = 0; sample < spec.samples; sample++) {
            insertItem.run(experiment.id, problem, setting, sample, spec.sampling.seed + sample);
          }
        }
      }
    })();
    return this.get(experiment.id)!;
  }

  get(id: string): ExperimentRecord | null {
    const row = this.statements.get.get(id) as ExperimentRow | undefined;
    return row ? toRecord(row) : null;
  }

  list(limit: number, offset: number): { experiments: ExperimentRecord[]; total: number } {
    const total = (this.statements.count.get() as { n: number }).n;
    const rows = this.statements.list.all(limit, offset) as ExperimentRow[];
    return { experiments: rows.map(toRecord), total };
  }

  problems(id: string): Problem[] {
    const row = this.statements.problems.get(id) as { problems: string } | undefined;
    return row ? (JSON.parse(row.problems) as Problem[]) : [];
  }

  items(id: string): ItemRecord[] {
    return (this.statements.items.all(id) as ItemRow[]).map(toItem);
  }

  /** Pending and failed items, in run order (a problem's settings and samples together). */
  runnableItems(id: string): ItemRecord[] {
    return (this.statements.runnable.all(id) as ItemRow[]).map(toItem);
  }

  counts(id: string): ItemCounts {
    const counts: ItemCounts = {
      pending: 0,
      running: 0,
      done: 0,
      failed: 0,
      total: 0,
      thinkingTokens: 0,
      answerTokens: 0,
    };
    const rows = this.statements.counts.all(id) as {
      status: ExperimentItemStatus;
      n: number;
      thinking: number | null;
      answer: number | null;
    }[];
    for (const row of rows) {
      counts[row.status] = row.n;
      counts.total += row.n;
      counts.thinkingTokens += row.thinking ?? 0;
      counts.answerTokens += row.answer ?? 0;
    }
    return counts;
  }

  /** Takes over an experiment for a new session: `running`, owned by this process. */
  startSession(id: string): void {
    this.statements.setStatus.run({
      id,
      status: "running",
      updated_at: now(),
      owner_pid: process.pid,
      error_code: null,
      error_message: null,
    });
  }

  /** Ends a session: its status, time spent, requests-in-flight record and error. */
  finishSession(
    id: string,
    status: Exclude<ExperimentStatus, "running">,
    extra: {
      elapsedMs: number;
      throughput: ExperimentThroughput | null;
      error?: { code: string; message: string } | null;
    },
  ): void {
    this.db.transaction(() => {
      // An item still marked running has no run going any more: it runs again on resume.
      this.statements.resetRunning.run(id);
      this.statements.finish.run({
        id,
        status,
        updated_at: now(),
        elapsed_ms: extra.elapsedMs,
        throughput: extra.throughput ? JSON.stringify(extra.throughput) : null,
        error_code: extra.error?.code ?? null,
        error_message: extra.error?.message ?? null,
      });
    })();
  }

  markRunning(id: string, item: ItemKey): void {
    this.statements.markRunning.run({ id, ...item });
  }

  markPending(id: string, item: ItemKey): void {
    this.statements.markPending.run({ id, ...item });
  }

  markDone(id: string, item: ItemKey, outcome: ItemOutcome): void {
    this.statements.markDone.run({
      id,
      ...item,
      run_id: outcome.runId,
      correct: outcome.correct ? 1 : 0,
      extracted: outcome.extracted,
      thinking_tokens: outcome.thinkingTokens,
      answer_tokens: outcome.answerTokens,
      waits: outcome.waits,
      forced_end: outcome.forcedEnd ? 1 : 0,
      within_budget: outcome.withinBudget ? 1 : 0,
      confidence: outcome.confidence ?? null,
    });
  }

  markFailed(
    id: string,
    item: ItemKey,
    runId: string | null,
    error: { code: string; message: string },
  ): void {
    this.statements.markFailed.run({
      id,
      ...item,
      run_id: runId,
      error_code: error.code,
      error_message: error.message,
    });
  }

  /** Deletes an experiment, its items and its stored runs. False when there was none. */
  delete(id: string): boolean {
    return this.db.transaction(() => {
      this.statements.deleteRuns.run(id);
      return this.statements.delete.run(id).changes > 0;
    })();
  }

  /**
   * Experiments left `running` by a process that is gone become
   * `interrupted`, their running items pending again. Returns their ids.
   */
  recoverInterrupted(): string[] {
    const rows = this.statements.runningExperiments.all() as ExperimentRow[];
    const recovered: string[] = [];
    for (const row of rows) {
      if (processAlive(row.owner_pid)) continue;
      this.finishSession(row.id, "interrupted", {
        elapsedMs: row.elapsed_ms,
        throughput: row.throughput ? (JSON.parse(row.throughput) as ExperimentThroughput) : null,
      });
      recovered.push(row.id);
    }
    return recovered;
  }
}

function now(): string {
  return new Date().toISOString();
}

function toRecord(row: ExperimentRow): ExperimentRecord {
  return {
    id: row.id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    name: row.name,
    status: row.status,
    preset: row.preset,
    backend: row.backend,
    model: row.model,
    dataset: JSON.parse(row.dataset) as ExperimentDatasetInfo,
    spec: JSON.parse(row.spec) as ExperimentSpec,
    elapsedMs: row.elapsed_ms,
    throughput: row.throughput ? (JSON.parse(row.throughput) as ExperimentThroughput) : null,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? "" } : null,
  };
}

function toItem(row: ItemRow): ItemRecord {
  const flag = (value: number | null) => (value === null ? null : value === 1);
  return {
    problem: row.problem,
    setting: row.setting,
    sample: row.sample,
    status: row.status,
    seed: row.seed,
    runId: row.run_id,
    correct: flag(row.correct),
    extracted: row.extracted,
    thinkingTokens: row.thinking_tokens,
    answerTokens: row.answer_tokens,
    waits: row.waits,
    forcedEnd: flag(row.forced_end),
    withinBudget: flag(row.within_budget),
    confidence: row.confidence ?? null,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? "" } : null,
  };
}

function prepareStatements(db: Database) {
  const statement = (sql: string): Statement => db.prepare(sql);
  const item =
    "experiment_id = @id AND problem = @problem AND setting = @setting AND sample = @sample";
  return {
    insert: statement(`INSERT INTO experiments
      (id, created_at, updated_at, name, status, preset, backend, model, dataset, problems, spec, owner_pid)
      VALUES (@id, @created_at, @updated_at, @name, @status, @preset, @backend, @model, @dataset, @problems,
       @spec, @owner_pid)`),
    insertItem: statement(
      `INSERT INTO experiment_items (experiment_id, problem, setting, sample, status, seed)
       VALUES (?, ?, ?, ?, 'pending', ?)`,
    ),
    get: statement(`SELECT ${EXPERIMENT_COLUMNS} FROM experiments WHERE id = ?`),
    count: statement("SELECT count(*) AS n FROM experiments"),
    list: statement(
      `SELECT ${EXPERIMENT_COLUMNS} FROM experiments ORDER BY created_at DESC, row DESC LIMIT ? OFFSET ?`,
    ),
    problems: statement("SELECT problems FROM experiments WHERE id = ?"),
    items: statement(
      "SELECT * FROM experiment_items WHERE experiment_id = ? ORDER BY problem, setting, sample",
    ),
    runnable: statement(`SELECT * FROM experiment_items
      WHERE experiment_id = ? AND status IN ('pending', 'failed') ORDER BY problem, sample, setting`),
    counts: statement(`SELECT status, count(*) AS n, sum(thinking_tokens) AS thinking,
      sum(answer_tokens) AS answer FROM experiment_items WHERE experiment_id = ? GROUP BY status`),
    setStatus: statement(`UPDATE experiments SET status = @status, updated_at = @updated_at,
      owner_pid = @owner_pid, error_code = @error_code, error_message = @error_message WHERE id = @id`),
    finish: statement(`UPDATE experiments SET status = @status, updated_at = @updated_at,
      elapsed_ms = @elapsed_ms, throughput = @throughput, error_code = @error_code,
      error_message = @error_message, owner_pid = NULL WHERE id = @id`),
    resetRunning: statement(
      "UPDATE experiment_items SET status = 'pending' WHERE experiment_id = ? AND status = 'running'",
    ),
    markRunning: statement(
      `UPDATE experiment_items SET status = 'running', error_code = NULL, error_message = NULL WHERE ${item}`,
    ),
    markPending: statement(
      `UPDATE experiment_items SET status = 'pending', run_id = NULL WHERE ${item}`,
    ),
    markDone: statement(`UPDATE experiment_items SET status = 'done', run_id = @run_id,
      correct = @correct, extracted = @extracted, thinking_tokens = @thinking_tokens,
      answer_tokens = @answer_tokens, waits = @waits, forced_end = @forced_end,
      within_budget = @within_budget, confidence = @confidence, error_code = NULL, error_message = NULL WHERE ${item}`),
    markFailed: statement(`UPDATE experiment_items SET status = 'failed', run_id = @run_id,
      error_code = @error_code, error_message = @error_message WHERE ${item}`),
    deleteRuns: statement("DELETE FROM runs WHERE experiment_id = ?"),
    delete: statement("DELETE FROM experiments WHERE id = ?"),
    runningExperiments: statement(
      `SELECT ${EXPERIMENT_COLUMNS} FROM experiments WHERE status = 'running'`,
    ),
  };
}
