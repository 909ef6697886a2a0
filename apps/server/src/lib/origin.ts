/**
 * Whether a WebSocket upgrade may proceed. Browsers always send `Origin`; a
 * page may connect from the server's own origin (same host and port as the
 * request's `Host`) or from an origin the operator allowed (`*` allows any).
 * Clients that are not browsers send no `Origin` and are not a CSRF risk.
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[],
): boolean {
  if (origin === undefined) return true;
  if (allowed.includes("*")) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    // `null` (a file:// page, a sandboxed frame) and garbage.
    return false;
  }
  if (allowed.includes(url.origin)) return true;
  return host !== undefined && url.host === host.toLowerCase();
}
