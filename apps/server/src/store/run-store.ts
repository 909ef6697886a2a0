/**
 * Every run, from any entry point, in one SQLite file
 * (`<THINKSCOPE_DATA_DIR>/thinkscope.db`), written as it streams:
 * the row when the run starts, its events in batched transactions (every
 * 100 ms or 64 events), the final event and the outcome in one synchronous
 * transaction. A crash therefore loses at most the last ~100 ms of events and
 * never leaves a half-written run; on the next start every run still marked
 * `running` by a dead process becomes `interrupted`, rebuilt from its events.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import BetterSqlite3, { type Database, type Statement } from "better-sqlite3";
import { RunTranscript, ThinkscopeError } from "@thinkscope/core";
import type { BudgetForcingSummary, EngineEvent } from "@thinkscope/protocol";
import type {
  BudgetForcing,
  PromptMode,
  RunDetail,
  RunList,
  RunSource,
  RunStatus,
  RunSummary,
  Sampling,
} from "@thinkscope/protocol";
import { detectFeatures, hasFtsTable, migrate } from "./migrations.ts";
import { newRunId } from "./run-id.ts";

export const DATABASE_FILE = "thinkscope.db";

export interface NewRun {
  id: string;
  source: RunSource;
  backend: string;
  model: string | null;
  prompt: string;
  renderedPrompt: string;
  mode: PromptMode;
  budgetForcing: BudgetForcing;
  sampling: Sampling;
  /** Answer stop strings (OpenAI `stop`), kept with the settings. */
  stop?: string[];
  experimentId?: string | null;
}

export interface RunOutcome {
  status: Exclude<RunStatus, "running">;
  summary: BudgetForcingSummary | null;
  text: string;
  answer: string;
  error: { code: string; message: string } | null;
}

export interface RunQuery {
  /** Words to find in the prompt or the text (all of them, each as a prefix). */
  q?: string;
  model?: string;
  status?: RunStatus;
  backend?: string;
  source?: RunSource;
  experimentId?: string;
  limit?: number;
  offset?: number;
}

export interface ImportResult {
  imported: number;
  renamed: { from: string; to: string }[];
}

export interface RunStoreOptions {
  /** Events are written at least this often while a run streams. */
  flushIntervalMs?: number;
  /** ...or as soon as this many are waiting. */
  flushEvents?: number;
}

interface RunRow {
  row: number;
  id: string;
  created_at: string;
  updated_at: string;
  status: RunStatus;
  source: RunSource;
  backend: string;
  model: string | null;
  prompt: string;
  rendered_prompt: string;
  mode: PromptMode;
  settings: string;
  summary: string | null;
  text: string;
  answer: string;
  error_code: string | null;
  error_message: string | null;
  experiment_id: string | null;
  owner_pid: number | null;
}

interface StoredSettings {
  budget_forcing: BudgetForcing;
  sampling: Sampling;
  stop?: string[];
}

interface PendingEvent {
  runId: string;
  seq: number;
  data: string;
}

export class RunStore {
  readonly db: Database;
  readonly fts: boolean;
  private readonly flushIntervalMs: number;
  private readonly flushEvents: number;
  private pending: PendingEvent[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly nextSeq = new Map<string, number>();
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly writeEvents: (events: PendingEvent[]) => void;

  private constructor(db: Database, options: RunStoreOptions) {
    this.db = db;
    this.flushIntervalMs = options.flushIntervalMs ?? 100;
    this.flushEvents = options.flushEvents ?? 64;
    this.fts = hasFtsTable(db);
    this.statements = prepareStatements(db);
    const insert = this.statements.insertEvent;
    this.writeEvents = db.transaction((events: PendingEvent[]) => {
      for (const event of events) insert.run(event.runId, event.seq, event.data);
    });
  }

  /** Opens (creating it if needed) `<dataDir>/thinkscope.db`, migrates it. */
  static open(dataDir: string, options: RunStoreOptions = {}): RunStore {
    mkdirSync(dataDir, { recursive: true });
    return RunStore.openFile(join(dataDir, DATABASE_FILE), options);
  }

  /** Opens a database file directly; `:memory:` works for tests. */
  static openFile(file: string, options: RunStoreOptions = {}): RunStore {
    const db = new BetterSqlite3(file);
    try {
      db.pragma("journal_mode = WAL");
      // In WAL mode NORMAL loses nothing on a process crash, only possibly on power loss.
      db.pragma("synchronous = NORMAL");
      db.pragma("foreign_keys = ON");
      // The CLI and the server may write to the same file at once.
      db.pragma("busy_timeout = 5000");
      migrate(db, detectFeatures(db));
    } catch (error) {
      db.close();
      throw error;
    }
    return new RunStore(db, options);
  }

  createRun(run: NewRun): RunSummary {
    const now = new Date().toISOString();
    const settings: StoredSettings = { budget_forcing: run.budgetForcing, sampling: run.sampling };
    if (run.stop?.length) settings.stop = run.stop;
    this.statements.insertRun.run({
      id: run.id,
      created_at: now,
      updated_at: now,
      status: "running",
      source: run.source,
      backend: run.backend,
      model: run.model,
      prompt: run.prompt,
      rendered_prompt: run.renderedPrompt,
      mode: run.mode,
      settings: JSON.stringify(settings),
      experiment_id: run.experimentId ?? null,
      owner_pid: process.pid,
    });
    this.nextSeq.set(run.id, 0);
    return toSummary(this.statements.getRun.get(run.id) as RunRow);
  }

  /** Queues one event of a running run; written within `flushIntervalMs`. */
  appendEvent(runId: string, event: EngineEvent): void {
    const seq = this.nextSeq.get(runId);
    if (seq === undefined) throw new Error(`Run ${runId} is not streaming in this process.`);
    this.nextSeq.set(runId, seq + 1);
    this.pending.push({ runId, seq, data: JSON.stringify(event) });
    if (this.pending.length >= this.flushEvents) this.flush();
    else if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), this.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** Writes every queued event now, in one transaction. */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.writeEvents(batch);
  }

  /** Ends a run: its remaining events and its outcome in one transaction. */
  finishRun(runId: string, outcome: RunOutcome): void {
    const batch = this.pending.filter((event) => event.runId === runId);
    this.pending = this.pending.filter((event) => event.runId !== runId);
    this.db.transaction(() => {
      this.writeEvents(batch);
      this.statements.finishRun.run({
        id: runId,
        updated_at: new Date().toISOString(),
        status: outcome.status,
        summary: outcome.summary ? JSON.stringify(outcome.summary) : null,
        text: outcome.text,
        answer: outcome.answer,
        error_code: outcome.error?.code ?? null,
        error_message: outcome.error?.message ?? null,
      });
    })();
    this.nextSeq.delete(runId);
  }

  /**
   * Marks runs left `running` by a process that is gone as `interrupted`,
   * with their text, answer and summary rebuilt from the stored events.
   * Returns how many were recovered.
   */
  recoverInterrupted(): number {
    const rows = this.statements.runningRuns.all() as RunRow[];
    let recovered = 0;
    for (const row of rows) {
      if (this.nextSeq.has(row.id) || processAlive(row.owner_pid)) continue;
      const transcript = this.transcriptOf(row.id);
      this.statements.finishRun.run({
        id: row.id,
        updated_at: new Date().toISOString(),
        status: "interrupted",
        summary: JSON.stringify(transcript.summary()),
        text: transcript.text,
        answer: transcript.answerText,
        error_code: transcript.error?.code ?? null,
        error_message: transcript.error?.message ?? null,
      });
      recovered += 1;
    }
    return recovered;
  }

  list(query: RunQuery = {}): RunList {
    const { where, params } = this.filter(query);
    const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
    const offset = Math.max(query.offset ?? 0, 0);
    const total = (
      this.db.prepare(`SELECT count(*) AS n FROM runs ${where}`).get(params) as { n: number }
    ).n;
    const rows = this.db
      .prepare(
        `SELECT * FROM runs ${where} ORDER BY created_at DESC, row DESC LIMIT @limit OFFSET @offset`,
      )
      .all({ ...params, limit, offset }) as RunRow[];
    return { runs: rows.map(toSummary), total };
  }

  get(id: string): RunDetail | null {
    // A reader sees a streaming run as it is now.
    if (this.nextSeq.has(id)) this.flush();
    const row = this.statements.getRun.get(id) as RunRow | undefined;
    if (!row) return null;
    return this.detailOf(row);
  }

  /** Deletes a run and its events. False when there was none. */
  delete(id: string): boolean {
    if (this.nextSeq.has(id)) {
      // Deleting a streaming run would orphan its queued events: refuse instead.
      throw new RunBusyError(id);
    }
    return this.statements.deleteRun.run(id).changes > 0;
  }

  /**
   * Every matching run as a JSONL line (one `RunDetail` each, oldest first).
   * Reads in pages so a large export never holds the whole database in memory
   * nor keeps a statement open between pages (the connection stays usable).
   */
  *exportLines(query: Omit<RunQuery, "limit" | "offset"> = {}): Generator<string> {
    this.flush();
    const { where, params } = this.filter(query);
    const page = this.db.prepare(
      `SELECT * FROM runs ${where ? where + " AND" : "WHERE"} row > @after ORDER BY row LIMIT 50`,
    );
    let after = 0;
    for (;;) {
      const rows = page.all({ ...params, after }) as RunRow[];
      if (rows.length === 0) return;
      for (const row of rows) yield JSON.stringify(this.detailOf(row)) + "\n";
      after = rows.at(-1)!.row;
    }
  }

  /**
   * Stores already validated runs, all or nothing. An id already in use (in
   * the database or earlier in the batch) gets a fresh one. A run that was
   * `running` where it came from cannot be running here: it is `interrupted`.
   */
  importRuns(runs: readonly RunDetail[]): ImportResult {
    const renamed: ImportResult["renamed"] = [];
    const insertRun = this.statements.insertImported;
    const exists = this.statements.exists;
    this.db.transaction(() => {
      for (const run of runs) {
        let id = run.id;
        if (exists.get(id) !== undefined) {
          id = newRunId();
          renamed.push({ from: run.id, to: id });
        }
        const settings: StoredSettings = {
          budget_forcing: run.budgetForcing,
          sampling: run.sampling,
        };
        insertRun.run({
          id,
          created_at: run.createdAt,
          updated_at: run.updatedAt,
          status: run.status === "running" ? "interrupted" : run.status,
          source: run.source,
          backend: run.backend,
          model: run.model,
          prompt: run.prompt,
          rendered_prompt: run.renderedPrompt,
          mode: run.mode,
          settings: JSON.stringify(settings),
          summary: run.summary ? JSON.stringify(run.summary) : null,
          text: run.text,
          answer: run.answer,
          error_code: run.error?.code ?? null,
          error_message: run.error?.message ?? null,
          experiment_id: run.experimentId,
        });
        run.events.forEach((event, seq) => {
          const stored =
            event.type === "run.started" && id !== run.id ? { ...event, runId: id } : event;
          this.statements.insertEvent.run(id, seq, JSON.stringify(stored));
        });
      }
    })();
    return { imported: runs.length, renamed };
  }

  /** Writes what is queued and closes the database. */
  close(): void {
    this.flush();
    this.db.close();
  }

  private transcriptOf(id: string): RunTranscript {
    const transcript = new RunTranscript();
    for (const event of this.eventsOf(id)) transcript.apply(event);
    return transcript;
  }

  private eventsOf(id: string): EngineEvent[] {
    return (this.statements.events.all(id) as { data: string }[]).map(
      (r) => JSON.parse(r.data) as EngineEvent,
    );
  }

  private detailOf(row: RunRow): RunDetail {
    const events = this.eventsOf(row.id);
    const summary = toSummary(row);
    let text = row.text;
    if (row.status === "running") {
      const transcript = new RunTranscript();
      for (const event of events) transcript.apply(event);
      text = transcript.text;
      summary.answer = transcript.answerText;
      summary.summary = transcript.summary();
    }
    return { ...summary, renderedPrompt: row.rendered_prompt, text, events };
  }

  private filter(query: RunQuery): { where: string; params: Record<string, string> } {
    const clauses: string[] = [];
    const params: Record<string, string> = {};
    const equal = (column: string, value: string | undefined) => {
      if (value === undefined || value === "") return;
      clauses.push(`${column} = @${column}`);
      params[column] = value;
    };
    equal("model", query.model);
    equal("status", query.status);
    equal("backend", query.backend);
    equal("source", query.source);
    equal("experiment_id", query.experimentId);
    const terms = searchTerms(query.q);
    // FTS5 finds words; a term with no letter or digit (`?`, `</>`) is searched as a substring.
    const words = this.fts ? terms.filter((term) => /[\p{L}\p{N}]/u.test(term)) : [];
    if (words.length > 0) {
      clauses.push("row IN (SELECT rowid FROM runs_fts WHERE runs_fts MATCH @match)");
      // Every word a quoted prefix: user input never reaches FTS5's query syntax.
      params.match = words.map((term) => `"${term.replaceAll('"', '""')}"*`).join(" ");
    }
    terms
      .filter((term) => !words.includes(term))
      .forEach((term, i) => {
        clauses.push(`(prompt LIKE @term${i} ESCAPE '\\' OR text LIKE @term${i} ESCAPE '\\')`);
        params[`term${i}`] = `%${term.replace(/[\\%_]/g, (c) => "\\" + c)}%`;
      });
    return { where: clauses.length > 0 ? "WHERE " + clauses.join(" AND ") : "", params };
  }
}

/** A run that is still streaming cannot be deleted. */
export class RunBusyError extends ThinkscopeError {
  constructor(id: string) {
    super("run_running", `Run ${id} is still running; abort it first.`, { status: 409 });
    this.name = "RunBusyError";
  }
}

function prepareStatements(db: Database) {
  const statement = (sql: string): Statement => db.prepare(sql);
  return {
    insertRun: statement(`INSERT INTO runs
      (id, created_at, updated_at, status, source, backend, model, prompt, rendered_prompt, mode, settings,
       experiment_id, owner_pid)
      VALUES (@id, @created_at, @updated_at, @status, @source, @backend, @model, @prompt, @rendered_prompt, @mode,
       @settings, @experiment_id, @owner_pid)`),
    insertImported: statement(`INSERT INTO runs
      (id, created_at, updated_at, status, source, backend, model, prompt, rendered_prompt, mode, settings,
       summary, text, answer, error_code, error_message, experiment_id)
      VALUES (@id, @created_at, @updated_at, @status, @source, @backend, @model, @prompt, @rendered_prompt, @mode,
       @settings, @summary, @text, @answer, @error_code, @error_message, @experiment_id)`),
    finishRun:
      statement(`UPDATE runs SET updated_at = @updated_at, status = @status, summary = @summary,
      text = @text, answer = @answer, error_code = @error_code, error_message = @error_message, owner_pid = NULL
      WHERE id = @id`),
    insertEvent: statement("INSERT INTO run_events (run_id, seq, data) VALUES (?, ?, ?)"),
    getRun: statement("SELECT * FROM runs WHERE id = ?"),
    exists: statement("SELECT 1 FROM runs WHERE id = ?"),
    deleteRun: statement("DELETE FROM runs WHERE id = ?"),
    events: statement("SELECT data FROM run_events WHERE run_id = ? ORDER BY seq"),
    runningRuns: statement("SELECT * FROM runs WHERE status = 'running'"),
  };
}

function toSummary(row: RunRow): RunSummary {
  const settings = JSON.parse(row.settings) as StoredSettings;
  return {
    id: row.id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    status: row.status,
    source: row.source,
    backend: row.backend,
    model: row.model,
    prompt: row.prompt,
    mode: row.mode,
    budgetForcing: settings.budget_forcing,
    sampling: settings.sampling,
    summary: row.summary ? (JSON.parse(row.summary) as BudgetForcingSummary) : null,
    answer: row.answer,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? "" } : null,
    experimentId: row.experiment_id,
  };
}

function searchTerms(q: string | undefined): string[] {
  return (q ?? "")
    .split(/\s+/)
    .map((term) => term.trim())
    .filter((term) => term !== "")
    .slice(0, 20);
}

/**
 * Whether the process that owns a running run is alive. Our own pid counts as
 * dead: a restarted container reuses pid 1, and this process has no runs yet
 * when it recovers.
 */
export function processAlive(pid: number | null): boolean {
  if (pid === null || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
