/**
 * The page's signed-in sessions, on the server. The cookie carries only a
 * random id (signed with a key derived from the access token); the session
 * is valid while its row exists and has not expired. Signing out deletes the
 * row, so a copy of the cookie stops working at once, and a restart keeps
 * everyone signed in.
 */
import type { Database, Statement } from "better-sqlite3";

export class SessionStore {
  private readonly insert: Statement;
  private readonly find: Statement;
  private readonly remove: Statement;
  private readonly purge: Statement;

  constructor(
    db: Database,
    private readonly lifetimeMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.insert = db.prepare(
      "INSERT INTO page_sessions (id, created_at, expires_at) VALUES (?, ?, ?)",
    );
    this.find = db.prepare("SELECT expires_at FROM page_sessions WHERE id = ?");
    this.remove = db.prepare("DELETE FROM page_sessions WHERE id = ?");
    this.purge = db.prepare("DELETE FROM page_sessions WHERE expires_at <= ?");
  }

  /** Records a new session; expired ones are cleared on the way, so the table stays small. */
  create(id: string): void {
    const now = this.now();
    this.purge.run(new Date(now).toISOString());
    this.insert.run(id, new Date(now).toISOString(), new Date(now + this.lifetimeMs).toISOString());
  }

  /** Whether `id` is a session that was started here, not ended and not expired. */
  isValid(id: string): boolean {
    const row = this.find.get(id) as { expires_at: string } | undefined;
    return row !== undefined && Date.parse(row.expires_at) > this.now();
  }

  /** Ends a session for good. */
  end(id: string): void {
    this.remove.run(id);
  }
}
