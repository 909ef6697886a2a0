/**
 * What kind of path a request is for, as the access check and the rate
 * limit see it: the API (JSON, the WebSocket) or the page (HTML and its
 * files), and the few API paths that stay open without a token.
 */

/** Open without a token: health checks, and the way to present a token. */
export const OPEN_PATHS: ReadonlySet<string> = new Set([
  "/api/health",
  "/api/auth/login",
  "/api/auth/logout",
  "/api/auth/status",
]);

/** The path of a request URL, without its query. */
export function pathOf(url: string): string {
  return url.split("?", 1)[0]!;
}

/** `/api/...`, `/v1/...` and `/ws`: answered with JSON (or a WebSocket), never with the page. */
export function isApiPath(path: string): boolean {
  return (
    path === "/ws" ||
    path === "/api" ||
    path === "/v1" ||
    path.startsWith("/api/") ||
    path.startsWith("/v1/") ||
    path.startsWith("/ws/")
  );
}

/** A file of the built page (`/assets/index-1a2b.js`, `/favicon.svg`), not one of its routes. */
export function isPageFile(path: string): boolean {
  return !isApiPath(path) && path.split("/").at(-1)!.includes(".");
}
