import type { FastifyServerOptions } from "fastify";
import type { Scrubber } from "./secrets.ts";

/** Where log lines go; anything with a `write(line)` (process.stdout, a test's capture). */
export interface LogDestination {
  write(line: string): unknown;
}

/**
 * pino options for the server: JSON lines, request headers that carry
 * credentials redacted, and every line scrubbed of configured secrets on
 * its way out, whatever logged it (an upstream error quoting the key).
 */
export function loggerOptions(
  level: string,
  scrub: Scrubber,
  destination: LogDestination = process.stdout,
): FastifyServerOptions["logger"] {
  return {
    level,
    redact: {
      paths: ["req.headers.authorization", 'req.headers["x-api-key"]', "req.headers.cookie"],
      censor: "[redacted]",
    },
    stream: { write: (line: string) => destination.write(scrub(line)) },
  };
}
