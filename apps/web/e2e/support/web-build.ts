import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { REPO_ROOT } from "./paths.ts";

const WEB = join(REPO_ROOT, "apps/web");
const BUILT_INDEX = join(WEB, "dist/index.html");
/** What the built page is made from: a change in any of them means the build is stale. */
const SOURCES = [
  join(WEB, "src"),
  join(WEB, "index.html"),
  join(WEB, "vite.config.ts"),
  join(WEB, "package.json"),
  join(REPO_ROOT, "packages/protocol/src"),
];

function newestMtime(path: string): number {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Why the page must be (re)built, or null when apps/web/dist is up to date. */
export function webBuildReason(): string | null {
  const built = statSync(BUILT_INDEX, { throwIfNoEntry: false });
  if (!built) return "apps/web/dist is missing";
  const newest = Math.max(...SOURCES.map(newestMtime));
  return newest > built.mtimeMs ? "apps/web/src changed since the last build" : null;
}

/**
 * Builds the page with `npm run build -w @thinkscope/web` when dist is
 * missing or older than its sources, so the tests never drive a stale page.
 */
export function ensureWebBuild(): void {
  const reason = webBuildReason();
  if (reason === null) return;
  console.log(`Building the page (${reason})…`);
  const result = spawnSync("npm", ["run", "build", "-w", "@thinkscope/web"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (result.status !== 0) {
    // Vite names the cause first and ends with a stack trace: keep the head of stderr.
    throw new Error(
      `Building the page failed (npm run build -w @thinkscope/web, exit ${result.status}):\n` +
        `${stripVTControlCharacters(result.stderr).trim().slice(0, 4000)}\n` +
        stripVTControlCharacters(result.stdout).trim().slice(-1000),
    );
  }
}
