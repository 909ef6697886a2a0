/** Upstream failures: their messages say which backend failed and how, and are shown. */
const UPSTREAM_STATUSES = new Set([502, 503, 504]);

/**
 * What a client is told about an error: bad input (4xx) and upstream
 * failures (502/503/504) as they are; any other 5xx is a bug whose details
 * belong in the log, not in a response.
 */
export function publicMessage(status: number, message: string): string {
  return status < 500 || UPSTREAM_STATUSES.has(status) ? message : "Internal server error.";
}
