import { randomBytes } from "node:crypto";

/** A run id in the engine's format (`run_` and 16 hex digits). */
export function newRunId(): string {
  return "run_" + randomBytes(8).toString("hex");
}
