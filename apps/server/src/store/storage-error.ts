/**
 * Faults of the run store's database, as clients and `/api/health` are told
 * them: `storage_full` (the disk, or the database's page limit, is full) and
 * `storage_unavailable` (another process held the write lock past the wait
 * allowed, or the file cannot be written: read-only, I/O errors, gone).
 */
import { ThinkscopeError } from "@thinkscope/core";

export type StorageFaultCode = "storage_full" | "storage_unavailable";

export class StorageError extends ThinkscopeError {
  declare readonly code: StorageFaultCode;

  constructor(code: StorageFaultCode, message: string, cause?: unknown) {
    super(code, message, {
      // 507 Insufficient Storage; a lock or an I/O fault may pass, so it is worth retrying.
      status: code === "storage_full" ? 507 : 503,
      retryable: code === "storage_unavailable",
      cause,
    });
    this.name = "StorageError";
  }
}

/** A write that failed because another connection holds the lock: worth retrying shortly. */
export function isLockBusy(error: unknown): boolean {
  const code = sqliteCode(error);
  return code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED");
}

/** A failed write (other than a busy lock, see `isLockBusy`) as the fault clients are told. */
export function storageFault(error: unknown): StorageError {
  if (error instanceof StorageError) return error;
  const code = sqliteCode(error);
  if (code === "SQLITE_FULL") {
    return new StorageError(
      "storage_full",
      "The server's storage is full: nothing more can be stored until space is freed.",
      error,
    );
  }
  return new StorageError(
    "storage_unavailable",
    `The server cannot write to its run store (${code || "unknown error"}).`,
    error,
  );
}

/** The fault when another process holds the database's write lock for longer than a write may wait. */
export function lockedFault(cause?: unknown): StorageError {
  return new StorageError(
    "storage_unavailable",
    "Another process is holding the run store's write lock: nothing could be stored. Try again shortly.",
    cause,
  );
}

function sqliteCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : "";
}
