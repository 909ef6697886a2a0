import { randomBytes } from "node:crypto";

/** A new run id. */
export function newRunId(): string {
  return "run_" + randomBytes(8).toString("hex");
}
