/**
 * Failures whose messages say what failed and how, and are shown: upstream
 * ones (502/503/504, which backend) and a full run store (507; a store that
 * cannot be written is a 503).
 */
const SHOWN_STATUSES = new Set([502, 503, 504, 507]);

/**
 * What a client is told about an error: bad input (4xx), upstream failures
 * and storage faults as they are; any other 5xx is a bug whose details
 * belong in the log, not in a response.
 */
export function publicMessage(status: number, message: string): string {
  return status < 500 || SHOWN_STATUSES.has(status) ? message : "Internal server error.";
}
