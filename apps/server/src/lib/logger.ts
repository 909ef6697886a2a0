import type { FastifyRequest, FastifyServerOptions } from "fastify";
import type { Scrubber } from "./secrets.ts";

/** Where log lines go; anything with a `write(line)` (process.stdout, a test's capture). */
export interface LogDestination {
  write(line: string): unknown;
}

/**
 * A URL as it may be logged: any `token` parameter's value replaced, right
 * or wrong (a wrong one is often a typo of the right one, or someone else's).
 */
export function redactUrl(url: string): string {
  return url.replace(/([?&;]token=)[^&;#]*/gi, "$1[redacted]");
}

/**
 * pino options for the server: JSON lines, request headers that carry
 * credentials redacted, tokens in URLs redacted, and every line scrubbed of
 * configured secrets on its way out, whatever logged it (an upstream error
 * quoting the key).
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
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: redactUrl(request.url),
        host: request.host,
        remoteAddress: request.ip,
      }),
    },
    stream: { write: (line: string) => destination.write(scrub(line)) },
  };
}
