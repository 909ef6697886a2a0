import type { Database } from "better-sqlite3";
import { isChunkable, type DeltaEvent, type EngineEvent } from "@thinkscope/protocol";
import { CHUNK_DELTAS, packChunk, packText } from "./event-log.ts";

/**
 * Schema versions, applied in order and recorded in `schema_migrations`.
 * Never edit a released migration: add the next one.
 */
export interface Migration {
  version: number;
  name: string;
  up(db: Database, features: StoreFeatures): void;
}

export interface StoreFeatures {
  /** SQLite was built with FTS5 (better-sqlite3's bundled build is). */
  fts5: boolean;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: "runs and events",
    up(db) {
      db.exec(`
        CREATE TABLE runs (
          -- An integer key keeps rowids stable across VACUUM, which the FTS index relies on.
          row INTEGER PRIMARY KEY,
          id TEXT NOT NULL UNIQUE,
          created_at TEXT NOT NULL,
          updated_at TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'aborted', 'error', 'interrupted')),
          source TEXT NOT NULL CHECK (source IN ('page', 'api', 'cli', 'experiment')),
          backend TEXT NOT NULL,
          model TEXT,
          prompt TEXT NOT NULL,
          rendered_prompt TEXT NOT NULL,
          mode TEXT NOT NULL CHECK (mode IN ('chat', 'raw')),
          settings TEXT NOT NULL,
          summary TEXT,
          text TEXT NOT NULL DEFAULT '',
          answer TEXT NOT NULL DEFAULT '',
          error_code TEXT,
          error_message TEXT,
          experiment_id TEXT,
          -- The process writing a running run: another live process's run is not interrupted.
          owner_pid INTEGER
        );
        CREATE INDEX runs_created ON runs (created_at DESC, row DESC);
        CREATE INDEX runs_status ON runs (status);
        CREATE INDEX runs_model ON runs (model);
        CREATE INDEX runs_experiment ON runs (experiment_id) WHERE experiment_id IS NOT NULL;

        CREATE TABLE run_events (
          run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE ON UPDATE CASCADE,
          seq INTEGER NOT NULL,
          data TEXT NOT NULL,
          PRIMARY KEY (run_id, seq)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 2,
    name: "full-text search",
    up(db, features) {
      if (!features.fts5) return;
      db.exec(`
        CREATE VIRTUAL TABLE runs_fts USING fts5 (prompt, text, content = 'runs', content_rowid = 'row');
        CREATE TRIGGER runs_fts_insert AFTER INSERT ON runs BEGIN
          INSERT INTO runs_fts (rowid, prompt, text) VALUES (new.row, new.prompt, new.text);
        END;
        CREATE TRIGGER runs_fts_delete AFTER DELETE ON runs BEGIN
          INSERT INTO runs_fts (runs_fts, rowid, prompt, text) VALUES ('delete', old.row, old.prompt, old.text);
        END;
        CREATE TRIGGER runs_fts_update AFTER UPDATE OF prompt, text ON runs BEGIN
          INSERT INTO runs_fts (runs_fts, rowid, prompt, text) VALUES ('delete', old.row, old.prompt, old.text);
          INSERT INTO runs_fts (rowid, prompt, text) VALUES (new.row, new.prompt, new.text);
        END;
        INSERT INTO runs_fts (runs_fts) VALUES ('rebuild');
      `);
    },
  },
  {
    version: 3,
    name: "experiments",
    up(db) {
      db.exec(`
        CREATE TABLE experiments (
          row INTEGER PRIMARY KEY,
          id TEXT NOT NULL UNIQUE,
          created_at TEXT NOT NULL,
          updated_at TEXT NOT NULL,
          name TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled', 'interrupted')),
          preset TEXT,
          backend TEXT NOT NULL,
          model TEXT,
          -- JSON: the dataset's description, the problems themselves (a snapshot, so a
          -- resume never reads the file again), and the resolved spec.
          dataset TEXT NOT NULL,
          problems TEXT NOT NULL,
          spec TEXT NOT NULL,
          elapsed_ms INTEGER NOT NULL DEFAULT 0,
          throughput TEXT,
          error_code TEXT,
          error_message TEXT,
          owner_pid INTEGER
        );
        CREATE INDEX experiments_created ON experiments (created_at DESC, row DESC);

        CREATE TABLE experiment_items (
          experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
          problem INTEGER NOT NULL,
          setting INTEGER NOT NULL,
          sample INTEGER NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
          seed INTEGER NOT NULL,
          run_id TEXT,
          correct INTEGER,
          extracted TEXT,
          thinking_tokens INTEGER,
          answer_tokens INTEGER,
          waits INTEGER,
          forced_end INTEGER,
          within_budget INTEGER,
          error_code TEXT,
          error_message TEXT,
          PRIMARY KEY (experiment_id, problem, setting, sample)
        ) WITHOUT ROWID;
        CREATE INDEX experiment_items_status ON experiment_items (experiment_id, status);
      `);
    },
  },
  {
    version: 4,
    name: "imports in progress",
    up(db) {
      db.exec(`
        -- An import writes its runs in many short transactions, so it never holds the
        -- database (or the event loop) for long; they stay hidden while it is listed here,
        -- and appear together when its row is deleted.
        CREATE TABLE pending_imports (
          id TEXT PRIMARY KEY,
          started_at TEXT NOT NULL,
          owner_pid INTEGER
        );
        ALTER TABLE runs ADD COLUMN import_id TEXT;
        CREATE INDEX runs_import ON runs (import_id) WHERE import_id IS NOT NULL;
      `);
    },
  },
  {
    version: 5,
    name: "page sessions",
    up(db) {
      // Sessions live on the server so that signing out ends them for good (a
      // copied cookie stops working), and so that they outlast a restart.
      db.exec(`
        CREATE TABLE page_sessions (
          id TEXT PRIMARY KEY,
          created_at TEXT NOT NULL,
          expires_at TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX page_sessions_expiry ON page_sessions (expires_at);
      `);
    },
  },
  {
    version: 6,
    name: "compact event log",
    up(db) {
      // Deltas move from one JSON row each into compressed columnar chunks
      // (store/event-log.ts); every other event stays a JSON row.
      db.exec(`
        CREATE TABLE run_chunks (
          run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE ON UPDATE CASCADE,
          -- The sequence number of the chunk's first event; it holds \`count\` of them.
          seq INTEGER NOT NULL,
          count INTEGER NOT NULL,
          data BLOB NOT NULL,
          PRIMARY KEY (run_id, seq)
        ) WITHOUT ROWID;
      `);
      const runs = db.prepare("SELECT DISTINCT run_id FROM run_events").pluck().all() as string[];
      const events = db.prepare("SELECT seq, data FROM run_events WHERE run_id = ? ORDER BY seq");
      const insertChunk = db.prepare(
        "INSERT INTO run_chunks (run_id, seq, count, data) VALUES (?, ?, ?, ?)",
      );
      const deleteEvents = db.prepare(
        "DELETE FROM run_events WHERE run_id = ? AND seq >= ? AND seq < ?",
      );
      for (const runId of runs) {
        const rows = events.all(runId) as { seq: number; data: string }[];
        // Numbered as stored (an old run's numbers may have gaps): a chunk holds consecutive ones only.
        let chunk: { seq: number; deltas: DeltaEvent[] } | null = null;
        const close = () => {
          if (!chunk) return;
          insertChunk.run(runId, chunk.seq, chunk.deltas.length, packChunk(chunk.deltas));
          deleteEvents.run(runId, chunk.seq, chunk.seq + chunk.deltas.length);
          chunk = null;
        };
        for (const { seq, data } of rows) {
          const event = JSON.parse(data) as EngineEvent;
          const fits = event.type === "delta" && isChunkable(event);
          if (!fits || (chunk && chunk.seq + chunk.deltas.length !== seq)) close();
          if (!fits) continue;
          chunk ??= { seq, deltas: [] };
          chunk.deltas.push(event);
          if (chunk.deltas.length >= CHUNK_DELTAS) close();
        }
        close();
      }
    },
  },
  {
    version: 7,
    name: "run text compressed, search index contentless",
    up(db, features) {
      // A run's text is kept once, deflated; the search index no longer reads it
      // from the table (the store feeds it the text when a run ends).
      db.exec(`
        DROP TRIGGER IF EXISTS runs_fts_insert;
        DROP TRIGGER IF EXISTS runs_fts_delete;
        DROP TRIGGER IF EXISTS runs_fts_update;
        DROP TABLE IF EXISTS runs_fts;
        ALTER TABLE runs ADD COLUMN text_z BLOB;
      `);
      const rows = db.prepare("SELECT row, prompt, text FROM runs").all() as {
        row: number;
        prompt: string;
        text: string;
      }[];
      const pack = db.prepare("UPDATE runs SET text_z = ? WHERE row = ?");
      for (const { row, text } of rows) pack.run(packText(text), row);
      db.exec("ALTER TABLE runs DROP COLUMN text");
      if (!features.fts5) return;
      db.exec(`
        CREATE VIRTUAL TABLE runs_fts USING fts5 (prompt, text, content = '', contentless_delete = 1);
        CREATE TRIGGER runs_fts_delete AFTER DELETE ON runs BEGIN
          DELETE FROM runs_fts WHERE rowid = old.row;
        END;
      `);
      const index = db.prepare("INSERT INTO runs_fts (rowid, prompt, text) VALUES (?, ?, ?)");
      for (const { row, prompt, text } of rows) index.run(row, prompt, text);
    },
  },
  {
    version: 8,
    name: "experiment item confidence",
    up(db) {
      // The lowest group log-probability of a sample, for a confidence vote; null when not asked.
      db.exec("ALTER TABLE experiment_items ADD COLUMN confidence REAL;");
    },
  },
];

export function detectFeatures(db: Database): StoreFeatures {
  try {
    db.exec("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5 (x); DROP TABLE temp.fts5_probe;");
    return { fts5: true };
  } catch {
    return { fts5: false };
  }
}

/** Applies every migration above the database's version, each in its own transaction. */
export function migrate(db: Database, features: StoreFeatures): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
  const applied = new Set(
    (db.prepare("SELECT version FROM schema_migrations").all() as { version: number }[]).map(
      (r) => r.version,
    ),
  );
  const newest = Math.max(0, ...applied);
  const known = Math.max(...MIGRATIONS.map((m) => m.version));
  if (newest > known) {
    throw new Error(
      `The database is at schema version ${newest}, newer than this server knows (${known}). Upgrade Thinkscope.`,
    );
  }
  const ran: number[] = [];
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      migration.up(db, features);
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(
        migration.version,
        migration.name,
        new Date().toISOString(),
      );
    })();
    ran.push(migration.version);
  }
  return ran;
}

/** Whether the FTS index exists (a database created without FTS5 keeps using LIKE). */
export function hasFtsTable(db: Database): boolean {
  return (
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs_fts'").get() !==
    undefined
  );
}
