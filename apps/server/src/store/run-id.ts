import { randomBytes } from "node:crypto";

/**
 * What every run id looks like (`run_` and 16 hex digits, the engine's
 * format): an imported run must have one, since ids end up in URLs and logs.
 */
export const RUN_ID_PATTERN = "^run_[0-9a-f]{16}$";

/** A new run id. */
export function newRunId(): string {
  return "run_" + randomBytes(8).toString("hex");
}
