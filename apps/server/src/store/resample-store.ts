/**
 * Resample analyses, in the runs' database: each kept whole as JSON and
 * rewritten as its samples finish (an analysis is small: answers and ids,
 * the samples themselves are runs).
 */
import type { Database, Statement } from "better-sqlite3";
import type { ResampleAnalysis } from "@thinkscope/protocol";
import { processAlive } from "./run-store.ts";

export class ResampleStore {
  private readonly statements: ReturnType<typeof prepareStatements>;

  constructor(db: Database) {
    this.statements = prepareStatements(db);
  }

  save(analysis: ResampleAnalysis): void {
    this.statements.upsert.run({
      id: analysis.id,
      run_id: analysis.runId,
      created_at: analysis.createdAt,
      status: analysis.status,
      data: JSON.stringify(analysis),
      owner_pid: analysis.status === "running" ? process.pid : null,
    });
  }

  get(id: string): ResampleAnalysis | null {
    const row = this.statements.get.get(id) as Row | undefined;
    return row ? toAnalysis(row) : null;
  }

  /** A run's analyses, newest first. */
  forRun(runId: string): ResampleAnalysis[] {
    return (this.statements.forRun.all(runId) as Row[]).map(toAnalysis);
  }
}

interface Row {
  data: string;
  status: string;
  owner_pid: number | null;
}

/** An analysis left running by a process that is gone was cut off: it is interrupted. */
function toAnalysis(row: Row): ResampleAnalysis {
  const analysis = JSON.parse(row.data) as ResampleAnalysis;
  if (row.status === "running" && row.owner_pid !== process.pid && !processAlive(row.owner_pid))
    analysis.status = "interrupted";
  return analysis;
}

function prepareStatements(db: Database) {
  const statement = (sql: string): Statement => db.prepare(sql);
  return {
    upsert:
      statement(`INSERT INTO resample_analyses (id, run_id, created_at, status, data, owner_pid)
      VALUES (@id, @run_id, @created_at, @status, @data, @owner_pid)
      ON CONFLICT (id) DO UPDATE SET status = excluded.status, data = excluded.data, owner_pid = excluded.owner_pid`),
    get: statement("SELECT data, status, owner_pid FROM resample_analyses WHERE id = ?"),
    forRun: statement(
      "SELECT data, status, owner_pid FROM resample_analyses WHERE run_id = ? ORDER BY created_at DESC",
    ),
  };
}
