/**
 * Runs `load` (a lazily loaded chunk's import) once the page is idle, so
 * the first run does not fetch, parse and compile it mid-stream. Failures
 * are left to the import that needs the chunk later: it reports them.
 */
export function preloadWhenIdle(load: () => Promise<unknown>): void {
  const start = () => void load().catch(() => {});
  if (typeof requestIdleCallback === "function") requestIdleCallback(start, { timeout: 3000 });
  else setTimeout(start, 1000);
}
