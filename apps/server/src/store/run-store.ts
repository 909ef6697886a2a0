/**
 * Every run, from any entry point, in one SQLite file
 * (`<THINKSCOPE_DATA_DIR>/thinkscope.db`), written as it streams: the row when
 * the run starts, its events in batches (every 100 ms, or as soon as a chunk
 * of deltas is full), its last events and its outcome in one transaction
 * when it ends. Deltas are kept in compressed columnar chunks, a few bytes a
 * token (store/event-log.ts). A crash therefore loses at most the last
 * ~100 ms of events and never leaves a half-written run; on the next start
 * every run still marked `running` by a dead process becomes `interrupted`,
 * rebuilt from its events.
 *
 * A write can fail. A run's writes stay queued until their transaction
 * commits, so nothing is dropped. While another process holds the write lock
 * a write waits at most `BUSY_WAIT_MS` (better-sqlite3 waits synchronously,
 * holding the event loop) and is tried again later, for up to `lockWaitMs`;
 * after that, or at once on a lasting fault (a full disk), the run is told
 * (`onFault`) and ends as `error` with the fault's code. Its writes stay
 * queued and are retried every `retryIntervalMs`, so its record is complete
 * once the storage recovers; until then readers see the queued state, and
 * `fault` says what is wrong (`/api/health`).
 */
import { mkdirSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
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
import {
  CHUNK_DELTAS,
  LogBuilder,
  eventsOfRows,
  packChunk,
  packEvent,
  packText,
  rowKey,
  rowsOf,
  unpackChunk,
  unpackEvent,
  unpackText,
  type LogRow,
} from "./event-log.ts";
import { newRunId } from "./run-id.ts";
import { isLockBusy, lockedFault, storageFault, type StorageError } from "./storage-error.ts";

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
  /** The run this one forked from, and after how many of its continuation tokens. */
  parentRunId?: string | null;
  forkAt?: number | null;
  /** The resample analysis this run is a sample of. */
  resampleId?: string | null;
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
  /** Leave out runs from this source. */
  excludeSource?: RunSource;
  experimentId?: string;
  /** Forks of this run. */
  parentRunId?: string;
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
  /** ...or as soon as this many are waiting (default: a full chunk of deltas). */
  flushEvents?: number;
  /** How long writes keep trying while another process holds the write lock; default 5 s. */
  lockWaitMs?: number;
  /** How often writes that failed for a lasting fault (a full disk) are tried again; default 1 s. */
  retryIntervalMs?: number;
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
  /** The run's text, deflated; null until it ends. */
  text_z: Buffer | null;
  answer: string;
  error_code: string | null;
  error_message: string | null;
  experiment_id: string | null;
  parent_run_id: string | null;
  fork_at: number | null;
  resample_id: string | null;
  owner_pid: number | null;
  import_id: string | null;
}

interface StoredSettings {
  budget_forcing: BudgetForcing;
  sampling: Sampling;
  stop?: string[];
}

/** What this process still has to write of a run it started, kept until it is written. */
interface QueuedRun {
  readonly id: string;
  /** The row's insert, until written. */
  row: Record<string, unknown> | null;
  /** Its events, grouped into the rows they are stored in. */
  log: LogBuilder;
  /** Rows taken from the log and not yet written, by `rowKey` (a growing chunk's latest version). */
  unwritten: Map<string, LogRow>;
  /** Events appended since its last write. */
  appended: number;
  /** Set when the run ends: its outcome, written in one transaction with its last rows. */
  end: { outcome: RunOutcome; updatedAt: string } | null;
  /** The fault that ended it, once it was told. */
  fault: StorageError | null;
  onFault: ((fault: StorageError) => void) | undefined;
  /** `finishRun` callers waiting for the end to be written. */
  waiters: { resolve: () => void; reject: (fault: StorageError) => void }[];
}

/** Longest a write waits for another process's lock before it is tried again later (event loop held meanwhile). */
const BUSY_WAIT_MS = 100;
/** Pause between tries while the lock is taken. */
const BUSY_RETRY_MS = 250;
/**
 * Longest an import holds the event loop at a time (ms): it writes in
 * transactions this long, and pauses its parsing as often, so that other
 * clients' requests, each a few turns of the loop, wait little behind it.
 */
export const IMPORT_SLICE_MS = 4;
/** Rows deleted per transaction when an import is discarded. */
const DISCARD_ROWS = 500;

/** How far an import's batch is written: the next row (-1: the run's own, else its event) and the ids given. */
interface ImportCursor {
  run: number;
  event: number;
  ids: string[];
}

/** Runs of an import still in progress are not there yet for readers. */
const VISIBLE = "(import_id IS NULL OR import_id NOT IN (SELECT id FROM pending_imports))";

interface PendingImportRow {
  id: string;
  owner_pid: number | null;
}

export class RunStore {
  readonly db: Database;
  readonly fts: boolean;
  private readonly flushIntervalMs: number;
  private readonly flushEvents: number;
  private readonly lockWaitMs: number;
  private readonly retryIntervalMs: number;
  /** Runs this process is writing, until everything of them is written. */
  private readonly queue = new Map<string, QueuedRun>();
  private queuedEvents = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Since when writes find the lock taken by another process; null when they do not. */
  private busySince: number | null = null;
  private currentFault: StorageError | null = null;
  private readonly faultListeners = new Set<(fault: StorageError | null) => void>();
  private closed = false;
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly writeQueued: (run: QueuedRun) => void;
  private readonly writeImportRows: (
    importId: string,
    runs: readonly RunDetail[],
    from: ImportCursor,
    until: number,
  ) => ImportCursor;

  private constructor(db: Database, options: RunStoreOptions) {
    this.db = db;
    this.flushIntervalMs = options.flushIntervalMs ?? 100;
    this.flushEvents = options.flushEvents ?? CHUNK_DELTAS;
    this.lockWaitMs = options.lockWaitMs ?? 5_000;
    this.retryIntervalMs = options.retryIntervalMs ?? 1_000;
    this.fts = hasFtsTable(db);
    // Searching a run's text for what the word index cannot find (`</>`, `?`).
    db.function("text_contains", { deterministic: true }, (packed: unknown, term: unknown) =>
      packed instanceof Uint8Array &&
      unpackText(packed).toLowerCase().includes(String(term).toLowerCase())
        ? 1
        : 0,
    );
    this.statements = prepareStatements(db, this.fts);
    const { insertRun, finishRun } = this.statements;
    this.writeQueued = db.transaction((run: QueuedRun) => {
      if (run.row) insertRun.run(run.row);
      for (const row of run.unwritten.values()) this.writeRow(run.id, row);
      if (run.end) {
        finishRun.run(outcomeParams(run.id, run.end.updatedAt, run.end.outcome));
        this.index(run.id, run.end.outcome.text);
      }
    });
    const { exists, insertImported } = this.statements;
    const rowsOfImported = new WeakMap<RunDetail, LogRow[]>();
    this.writeImportRows = db.transaction(
      (importId: string, runs: readonly RunDetail[], from, until) => {
        let { run, event } = from;
        const ids = [...from.ids];
        // At least one row, then as many as fit before `until`.
        for (
          let rows = 0;
          run < runs.length && (rows === 0 || performance.now() < until);
          rows += 1
        ) {
          const detail = runs[run]!;
          let rows = rowsOfImported.get(detail);
          if (!rows) rowsOfImported.set(detail, (rows = rowsOf(detail.events)));
          if (event < 0) {
            const id = exists.get(detail.id) === undefined ? detail.id : newRunId();
            ids.push(id);
            insertImported.run(importedParams(detail, id, importId));
            this.index(id, detail.text);
          } else {
            const id = ids[run]!;
            const row = rows[event]!;
            const renamed =
              row.kind === "event" && row.event.type === "run.started" && id !== detail.id;
            this.writeRow(
              id,
              renamed ? { ...row, event: { ...row.event, runId: id } as EngineEvent } : row,
            );
          }
          event += 1;
          if (event >= rows.length) {
            run += 1;
            event = -1;
          }
        }
        return { run, event, ids };
      },
    );
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
      // The WAL is copied into the database every 1 MB written and kept at that size,
      // so it holds little beyond the database (and each checkpoint is short).
      db.pragma("wal_autocheckpoint = 256");
      db.pragma(`journal_size_limit = ${1024 * 1024}`);
      // The CLI and the server may write to the same file at once; a longer wait is retried later (see the header).
      db.pragma(`busy_timeout = ${BUSY_WAIT_MS}`);
      migrate(db, detectFeatures(db));
    } catch (error) {
      db.close();
      throw error;
    }
    return new RunStore(db, options);
  }

  /** Why writes are failing now; null while the store writes normally. */
  get fault(): StorageError | null {
    return this.currentFault;
  }

  /** Calls `listener` whenever `fault` changes (to null when the store recovers). Returns the unsubscribe. */
  watchFault(listener: (fault: StorageError | null) => void): () => void {
    this.faultListeners.add(listener);
    return () => this.faultListeners.delete(listener);
  }

  /**
   * Stores a new run as `running`, owned by this process. Its row is written
   * at once, so a store that cannot take it refuses the run (a `StorageError`)
   * before it streams; a busy lock only delays the write. `onFault` is told
   * if the run's writes later fail for good.
   */
  createRun(run: NewRun, onFault?: (fault: StorageError) => void): void {
    if (this.queue.has(run.id)) throw new Error(`Run ${run.id} is already streaming.`);
    const now = new Date().toISOString();
    const settings: StoredSettings = { budget_forcing: run.budgetForcing, sampling: run.sampling };
    if (run.stop?.length) settings.stop = run.stop;
    const queued: QueuedRun = {
      id: run.id,
      row: {
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
        parent_run_id: run.parentRunId ?? null,
        fork_at: run.forkAt ?? null,
        resample_id: run.resampleId ?? null,
        owner_pid: process.pid,
      },
      log: new LogBuilder(),
      unwritten: new Map(),
      appended: 0,
      end: null,
      fault: null,
      onFault,
      waiters: [],
    };
    this.queue.set(run.id, queued);
    const result = this.busySince === null ? this.tryWrite(queued) : "busy";
    if (result === "busy") this.schedule(BUSY_RETRY_MS);
    else if (result !== null) {
      this.queue.delete(run.id);
      throw result;
    }
  }

  /** Queues one event of a running run; written within `flushIntervalMs`. */
  appendEvent(runId: string, event: EngineEvent): void {
    const run = this.queue.get(runId);
    if (!run || run.end !== null) throw new Error(`Run ${runId} is not streaming in this process.`);
    run.log.append(event);
    run.appended += 1;
    this.queuedEvents += 1;
    // While writes fail, only the retry timer tries (a busy lock holds the event loop each time).
    const failing = this.busySince !== null || this.currentFault !== null;
    if (this.queuedEvents >= this.flushEvents && !failing) this.flush();
    else this.schedule(this.flushIntervalMs);
  }

  /**
   * Writes every queued run now, each in its own transaction, so one run's
   * fault never holds back another's writes. Never throws: what fails stays
   * queued and is tried again (see the header).
   */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    for (const run of this.queue.values()) {
      if (!hasWrites(run)) continue;
      const result = this.tryWrite(run);
      // The lock is another process's: the other runs would only wait for it too.
      if (result === "busy") break;
      if (result !== null) this.failRun(run, result);
    }
    const locked = this.busySince !== null && Date.now() - this.busySince >= this.lockWaitMs;
    if (locked) {
      const fault = lockedFault();
      this.setFault(fault);
      for (const run of this.queue.values()) if (hasWrites(run)) this.failRun(run, fault);
    }
    if ([...this.queue.values()].some(hasWrites)) {
      this.schedule(this.busySince !== null && !locked ? BUSY_RETRY_MS : this.retryIntervalMs);
    }
  }

  /**
   * Ends a run: its queued events, `last` (its final events) and its outcome
   * in one transaction. Resolves once written; rejects with a `StorageError`
   * when they cannot be. They then stay queued until written, unless a later
   * `finishRun` (the run ending as that error instead) replaces them. From
   * the call on, the run no longer streams: it can be deleted.
   */
  finishRun(runId: string, outcome: RunOutcome, last: readonly EngineEvent[] = []): Promise<void> {
    const run = this.queue.get(runId);
    if (!run) throw new Error(`Run ${runId} is not streaming in this process.`);
    for (const event of last) run.log.append(event);
    run.end = { outcome, updatedAt: new Date().toISOString() };
    if (run.fault) {
      this.schedule(this.retryIntervalMs);
      return Promise.reject(run.fault);
    }
    const written = new Promise<void>((resolve, reject) => run.waiters.push({ resolve, reject }));
    if (this.busySince === null) this.flush();
    else this.schedule(BUSY_RETRY_MS);
    return written;
  }

  /**
   * Marks runs left `running` by a process that is gone as `interrupted`,
   * with their text, answer and summary rebuilt from the stored events, and
   * removes what imports cut off by a stop had written. Returns how many runs
   * were recovered.
   */
  recoverInterrupted(): number {
    for (const stale of this.statements.pendingImports.all() as PendingImportRow[]) {
      if (processAlive(stale.owner_pid)) continue;
      this.db.transaction(() => {
        this.statements.deleteImported.run(stale.id, -1);
        this.statements.deletePendingImport.run(stale.id);
      })();
    }
    const rows = this.statements.runningRuns.all() as RunRow[];
    let recovered = 0;
    for (const row of rows) {
      if (this.queue.has(row.id) || processAlive(row.owner_pid)) continue;
      const transcript = this.transcriptOf(row.id);
      this.db.transaction(() => {
        this.statements.finishRun.run(
          outcomeParams(row.id, new Date().toISOString(), {
            status: "interrupted",
            summary: transcript.summary(),
            text: transcript.text,
            answer: transcript.answerText,
            error: transcript.error
              ? { code: transcript.error.code, message: transcript.error.message }
              : null,
          }),
        );
        this.index(row.id, transcript.text);
      })();
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
    return { runs: rows.map((row) => this.summaryOf(row)), total };
  }

  /**
   * A run's family: its root (the first ancestor still stored) and every
   * fork below it, oldest first; empty when the run is not stored.
   */
  family(id: string): RunSummary[] {
    const rows = this.db
      .prepare(
        `WITH RECURSIVE
          up(id, parent, depth) AS (
            SELECT id, parent_run_id, 0 FROM runs WHERE id = @id AND ${VISIBLE}
            UNION ALL
            SELECT r.id, r.parent_run_id, up.depth + 1 FROM runs r JOIN up ON r.id = up.parent
            WHERE up.depth < 1000
          ),
          root(id) AS (SELECT id FROM up ORDER BY depth DESC LIMIT 1),
          down(id) AS (
            SELECT id FROM root
            UNION
            SELECT r.id FROM runs r JOIN down ON r.parent_run_id = down.id
          )
        SELECT * FROM runs WHERE id IN (SELECT id FROM down) AND ${VISIBLE}
        ORDER BY created_at, row`,
      )
      .all({ id }) as RunRow[];
    return rows.map((row) => this.summaryOf(row));
  }

  /** A run as it is now: what is written, and what this process still has queued for it. */
  get(id: string): RunDetail | null {
    const row = this.statements.getRun.get(id) as RunRow | undefined;
    return row ? this.detailOf(row) : null;
  }

  /** Deletes a run and its events. False when there was none. */
  delete(id: string): boolean {
    const run = this.queue.get(id);
    if (run && run.end === null) {
      // Deleting a streaming run would orphan its queued events: refuse instead.
      throw new RunBusyError(id);
    }
    const deleted = this.writeNow(() => this.statements.deleteRun.run(id).changes > 0);
    if (!run) return deleted;
    // An ended run whose last writes are still queued: they go with it.
    this.queue.delete(id);
    this.queuedEvents -= run.appended;
    for (const waiter of run.waiters.splice(0)) waiter.resolve();
    return true;
  }

  /**
   * Every matching run as a JSONL line (one `RunDetail` each, oldest first).
   * Reads in pages so a large export never holds the whole database in memory
   * nor keeps a statement open between pages (the connection stays usable).
   */
  *exportLines(query: Omit<RunQuery, "limit" | "offset"> = {}): Generator<string> {
    const { where, params } = this.filter(query);
    const page = this.db.prepare(
      `SELECT * FROM runs ${where} AND row > @after ORDER BY row LIMIT 50`,
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
   * Starts an import. Its runs are written with `importBatch` in short
   * transactions and stay hidden until `commitImport` shows them all at
   * once; `discardImport` removes them. An import cut off by a crash is
   * removed on the next start.
   */
  async startImport(): Promise<string> {
    const id = "imp_" + newRunId().slice("run_".length);
    await this.writeRetrying(() =>
      this.statements.insertPendingImport.run(id, new Date().toISOString(), process.pid),
    );
    return id;
  }

  /**
   * Writes already validated runs of an import, in transactions of about
   * `IMPORT_SLICE_MS` each (a long run's events span several), the event
   * loop free between them. An id already in use (in the database, or earlier in
   * the import) gets a fresh one; those renamings are returned. A run that
   * was `running` where it came from cannot be running here: it is
   * `interrupted`.
   */
  async importBatch(
    importId: string,
    runs: readonly RunDetail[],
  ): Promise<ImportResult["renamed"]> {
    let at: ImportCursor = { run: 0, event: -1, ids: [] };
    while (at.run < runs.length) {
      await new Promise((resolve) => setImmediate(resolve));
      const from = at;
      at = await this.writeRetrying(() =>
        this.writeImportRows(importId, runs, from, performance.now() + IMPORT_SLICE_MS),
      );
    }
    const ids = at.ids;
    return runs.flatMap((run, i) => (ids[i] === run.id ? [] : [{ from: run.id, to: ids[i]! }]));
  }

  /** Shows every run of an import, in one short transaction. */
  async commitImport(importId: string): Promise<void> {
    await this.writeRetrying(() => this.statements.deletePendingImport.run(importId));
  }

  /** Removes what an import wrote, a few hundred rows per transaction, the event loop free in between. */
  async discardImport(importId: string): Promise<void> {
    const { deleteImportedEvents, deleteImportedChunks, deleteImported, deletePendingImport } =
      this.statements;
    for (const rows of [deleteImportedEvents, deleteImportedChunks, deleteImported]) {
      while ((await this.writeRetrying(() => rows.run(importId, DISCARD_ROWS))).changes > 0) {
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    await this.writeRetrying(() => deletePendingImport.run(importId));
  }

  /** Writes what is queued and closes the database (what cannot be written is recovered on the next start). */
  close(): void {
    this.flush();
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.db.close();
  }

  /** Puts an ended run's prompt and text into the word index (it keeps no copy of its own). */
  private index(runId: string, text: string): void {
    this.statements.indexRun?.run({ id: runId, text });
  }

  /** One row of a run's log. */
  private writeRow(runId: string, row: LogRow): void {
    if (row.kind === "chunk") {
      this.statements.upsertChunk.run(runId, row.seq, row.deltas.length, packChunk(row.deltas));
    } else {
      this.statements.insertEvent.run(runId, row.seq, packEvent(row.event));
    }
  }

  /** Writes one queued run. Null once committed, `busy` if the lock was taken, otherwise the fault. */
  private tryWrite(run: QueuedRun): StorageError | "busy" | null {
    for (const row of run.log.take()) run.unwritten.set(rowKey(row), row);
    try {
      this.writeQueued(run);
    } catch (error) {
      const fault = this.failed(error);
      if (fault === "busy") this.busySince ??= Date.now();
      return fault;
    }
    this.queuedEvents -= run.appended;
    run.appended = 0;
    run.unwritten.clear();
    run.row = null;
    if (run.end) {
      this.queue.delete(run.id);
      for (const waiter of run.waiters.splice(0)) waiter.resolve();
    }
    this.succeeded();
    return null;
  }

  /** A write done at once (a request's): a busy lock or a fault throws a `StorageError`. */
  private writeNow<T>(write: () => T): T {
    try {
      const result = write();
      this.succeeded();
      return result;
    } catch (error) {
      const fault = this.failed(error);
      throw fault === "busy" ? lockedFault(error) : fault;
    }
  }

  /** A write that may wait: tried again while the lock is taken, for up to `lockWaitMs`. */
  private async writeRetrying<T>(write: () => T): Promise<T> {
    const started = Date.now();
    for (;;) {
      try {
        const result = write();
        this.succeeded();
        return result;
      } catch (error) {
        const fault = this.failed(error);
        if (fault !== "busy") throw fault;
        if (Date.now() - started >= this.lockWaitMs) throw lockedFault(error);
      }
      await sleep(BUSY_RETRY_MS);
    }
  }

  /** What a failed write means: `busy` (another process has the lock), or a fault the store now reports. */
  private failed(error: unknown): StorageError | "busy" {
    if (isLockBusy(error)) return "busy";
    const fault = storageFault(error);
    this.setFault(fault);
    return fault;
  }

  private succeeded(): void {
    this.busySince = null;
    // Recovered once no run still waits to write what failed.
    if (this.currentFault && ![...this.queue.values()].some((run) => run.fault && hasWrites(run))) {
      this.setFault(null);
    }
  }

  private setFault(fault: StorageError | null): void {
    if (fault?.code === this.currentFault?.code) {
      this.currentFault = fault;
      return;
    }
    this.currentFault = fault;
    for (const listener of this.faultListeners) listener(fault);
  }

  /** Tells a run, once, that its writes failed for good; they stay queued. */
  private failRun(run: QueuedRun, fault: StorageError): void {
    if (run.fault) return;
    run.fault = fault;
    for (const waiter of run.waiters.splice(0)) waiter.reject(fault);
    run.onFault?.(fault);
  }

  private schedule(delayMs: number): void {
    if (this.timer !== null || this.closed) return;
    this.timer = setTimeout(() => this.flush(), delayMs);
    this.timer.unref();
  }

  private transcriptOf(id: string): RunTranscript {
    const transcript = new RunTranscript();
    for (const event of this.eventsOf(id)) transcript.apply(event);
    return transcript;
  }

  /** A run's events: what is written, then what this process still has queued of it. */
  private eventsOf(id: string): EngineEvent[] {
    const rows: LogRow[] = [];
    for (const { seq, data } of this.statements.chunks.all(id) as { seq: number; data: Buffer }[]) {
      rows.push({ kind: "chunk", seq, deltas: unpackChunk(data) });
    }
    const events = this.statements.events.all(id) as { seq: number; data: Buffer | string }[];
    for (const { seq, data } of events) rows.push({ kind: "event", seq, event: unpackEvent(data) });
    const queued = this.queue.get(id);
    if (queued) rows.push(...queued.unwritten.values(), ...queued.log.peek());
    return eventsOfRows(rows);
  }

  /** The row's summary; a run whose end is still queued shows that end. */
  private summaryOf(row: RunRow): RunSummary {
    const summary = toSummary(row);
    const end = this.queue.get(row.id)?.end;
    if (!end) return summary;
    const { outcome } = end;
    return {
      ...summary,
      updatedAt: end.updatedAt,
      status: outcome.status,
      summary: outcome.summary,
      answer: outcome.answer,
      error: outcome.error,
    };
  }

  private detailOf(row: RunRow): RunDetail {
    const queued = this.queue.get(row.id);
    const events = this.eventsOf(row.id);
    const summary = this.summaryOf(row);
    let text = queued?.end?.outcome.text ?? unpackText(row.text_z);
    if (summary.status === "running") {
      const transcript = new RunTranscript();
      for (const event of events) transcript.apply(event);
      text = transcript.text;
      summary.answer = transcript.answerText;
      summary.summary = transcript.summary();
    }
    return { ...summary, renderedPrompt: row.rendered_prompt, text, events };
  }

  private filter(query: RunQuery): { where: string; params: Record<string, string> } {
    const clauses: string[] = [VISIBLE];
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
    equal("parent_run_id", query.parentRunId);
    if (query.excludeSource !== undefined) {
      clauses.push("source != @exclude_source");
      params.exclude_source = query.excludeSource;
    }
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
        clauses.push(`(prompt LIKE @like${i} ESCAPE '\\' OR text_contains(text_z, @term${i}) = 1)`);
        params[`like${i}`] = `%${term.replace(/[\\%_]/g, (c) => "\\" + c)}%`;
        params[`term${i}`] = term;
      });
    return { where: "WHERE " + clauses.join(" AND "), params };
  }
}

/** An imported run's row. */
function importedParams(run: RunDetail, id: string, importId: string) {
  const settings: StoredSettings = { budget_forcing: run.budgetForcing, sampling: run.sampling };
  return {
    id,
    created_at: storedTime(run.createdAt),
    updated_at: storedTime(run.updatedAt),
    status: run.status === "running" ? "interrupted" : run.status,
    source: run.source,
    backend: run.backend,
    model: run.model,
    prompt: run.prompt,
    rendered_prompt: run.renderedPrompt,
    mode: run.mode,
    settings: JSON.stringify(settings),
    summary: packSummary(run.summary, run.text),
    text_z: packText(run.text),
    answer: run.answer,
    error_code: run.error?.code ?? null,
    error_message: run.error?.message ?? null,
    experiment_id: run.experimentId,
    parent_run_id: run.parentRunId ?? null,
    fork_at: run.forkAt ?? null,
    resample_id: run.resampleId ?? null,
    import_id: importId,
  };
}

/**
 * An imported time (RFC 3339) in the form the server writes, UTC, so that
 * times sort as times. The few RFC 3339 forms Date cannot read (a leap
 * second, an RFC 9557 suffix) are kept as written, which still sorts.
 */
function storedTime(time: string): string {
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? time : new Date(ms).toISOString();
}

function hasWrites(run: QueuedRun): boolean {
  return run.row !== null || run.appended > 0 || run.unwritten.size > 0 || run.end !== null;
}

function outcomeParams(id: string, updatedAt: string, outcome: RunOutcome) {
  return {
    id,
    updated_at: updatedAt,
    status: outcome.status,
    summary: packSummary(outcome.summary, outcome.text),
    text_z: packText(outcome.text),
    answer: outcome.answer,
    error_code: outcome.error?.code ?? null,
    error_message: outcome.error?.message ?? null,
  };
}

/** A run that is still streaming cannot be deleted. */
export class RunBusyError extends ThinkscopeError {
  constructor(id: string) {
    super("run_running", `Run ${id} is still running; abort it first.`, { status: 409 });
    this.name = "RunBusyError";
  }
}

function prepareStatements(db: Database, fts: boolean) {
  const statement = (sql: string): Statement => db.prepare(sql);
  return {
    insertRun: statement(`INSERT INTO runs
      (id, created_at, updated_at, status, source, backend, model, prompt, rendered_prompt, mode, settings,
       experiment_id, parent_run_id, fork_at, resample_id, owner_pid)
      VALUES (@id, @created_at, @updated_at, @status, @source, @backend, @model, @prompt, @rendered_prompt, @mode,
       @settings, @experiment_id, @parent_run_id, @fork_at, @resample_id, @owner_pid)`),
    insertImported: statement(`INSERT INTO runs
      (id, created_at, updated_at, status, source, backend, model, prompt, rendered_prompt, mode, settings,
       summary, text_z, answer, error_code, error_message, experiment_id, parent_run_id, fork_at, resample_id,
       import_id)
      VALUES (@id, @created_at, @updated_at, @status, @source, @backend, @model, @prompt, @rendered_prompt, @mode,
       @settings, @summary, @text_z, @answer, @error_code, @error_message, @experiment_id, @parent_run_id, @fork_at,
       @resample_id, @import_id)`),
    finishRun:
      statement(`UPDATE runs SET updated_at = @updated_at, status = @status, summary = @summary,
      text_z = @text_z, answer = @answer, error_code = @error_code, error_message = @error_message, owner_pid = NULL
      WHERE id = @id`),
    insertEvent: statement("INSERT INTO run_events (run_id, seq, data) VALUES (?, ?, ?)"),
    getRun: statement(`SELECT * FROM runs WHERE id = ? AND ${VISIBLE}`),
    // Without FTS5 (a rare SQLite build) every term is searched with text_contains.
    indexRun: fts
      ? statement(
          "INSERT INTO runs_fts (rowid, prompt, text) SELECT row, prompt, @text FROM runs WHERE id = @id",
        )
      : null,
    exists: statement("SELECT 1 FROM runs WHERE id = ?"),
    deleteRun: statement(`DELETE FROM runs WHERE id = ? AND ${VISIBLE}`),
    events: statement("SELECT seq, data FROM run_events WHERE run_id = ? ORDER BY seq"),
    chunks: statement("SELECT seq, data FROM run_chunks WHERE run_id = ? ORDER BY seq"),
    // A chunk is written again as it grows, until it is full.
    upsertChunk: statement(
      "INSERT OR REPLACE INTO run_chunks (run_id, seq, count, data) VALUES (?, ?, ?, ?)",
    ),
    runningRuns: statement("SELECT * FROM runs WHERE status = 'running'"),
    insertPendingImport: statement(
      "INSERT INTO pending_imports (id, started_at, owner_pid) VALUES (?, ?, ?)",
    ),
    pendingImports: statement("SELECT id, owner_pid FROM pending_imports"),
    deletePendingImport: statement("DELETE FROM pending_imports WHERE id = ?"),
    // Any events left go with their runs (ON DELETE CASCADE); a limit of -1 is none.
    deleteImported: statement(
      "DELETE FROM runs WHERE row IN (SELECT row FROM runs WHERE import_id = ? LIMIT ?)",
    ),
    deleteImportedEvents: statement(`DELETE FROM run_events WHERE (run_id, seq) IN
      (SELECT run_id, seq FROM run_events WHERE run_id IN (SELECT id FROM runs WHERE import_id = ?) LIMIT ?)`),
    deleteImportedChunks: statement(`DELETE FROM run_chunks WHERE (run_id, seq) IN
      (SELECT run_id, seq FROM run_chunks WHERE run_id IN (SELECT id FROM runs WHERE import_id = ?) LIMIT ?)`),
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
    summary: unpackSummary(row.summary, () => unpackText(row.text_z)),
    answer: row.answer,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? "" } : null,
    experimentId: row.experiment_id,
    parentRunId: row.parent_run_id,
    forkAt: row.fork_at,
    resampleId: row.resample_id,
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

/**
 * A summary as stored: its segments concatenate to the run's text, so each
 * keeps only its length and the text is not stored twice (the segments of
 * a long run's summary are as long as the run). A summary whose segments do
 * not make up the text (an import from elsewhere) is kept whole.
 */
function packSummary(summary: BudgetForcingSummary | null, text: string): string | null {
  if (!summary) return null;
  if (summary.segments.map((segment) => segment.text).join("") !== text) {
    return JSON.stringify(summary);
  }
  const segments = summary.segments.map(({ type, tokens, text: segmentText }) => ({
    type,
    tokens,
    length: segmentText.length,
  }));
  return JSON.stringify({ ...summary, segments });
}

function unpackSummary(stored: string | null, textOf: () => string): BudgetForcingSummary | null {
  if (stored === null) return null;
  const summary = JSON.parse(stored) as Omit<BudgetForcingSummary, "segments"> & {
    segments: Array<BudgetForcingSummary["segments"][number] | StoredSegment>;
  };
  let at = 0;
  let text: string | undefined;
  const segments = summary.segments.map((segment) => {
    if (!("length" in segment)) return segment;
    text ??= textOf();
    const { type, tokens, length } = segment;
    at += length;
    return { type, tokens, text: text.slice(at - length, at) };
  });
  return { ...summary, segments };
}

interface StoredSegment {
  type: BudgetForcingSummary["segments"][number]["type"];
  tokens: number;
  /** Its text's length: it is the next `length` characters of the run's text. */
  length: number;
}
