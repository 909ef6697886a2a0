#!/usr/bin/env node
/**
 * `npm start`: builds the page when apps/web/dist is missing or older than
 * its sources, then runs the server (TypeScript through tsx, no build step).
 * Ctrl+C stops the server cleanly; its exit code is ours.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const web = join(root, "apps", "web");
const builtPage = join(web, "dist", "index.html");
/** What the page is built from: when any of it is newer than the build, build again. */
const pageSources = [
  join(web, "src"),
  join(web, "index.html"),
  join(web, "vite.config.ts"),
  join(web, "package.json"),
  join(root, "packages", "protocol", "src"),
];

function newestChange(path) {
  if (!existsSync(path)) return 0;
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === "node_modules") continue;
    newest = Math.max(newest, newestChange(join(path, entry)));
  }
  return newest;
}

function pageIsStale() {
  if (!existsSync(builtPage)) return true;
  const builtAt = statSync(builtPage).mtimeMs;
  return pageSources.some((source) => newestChange(source) > builtAt);
}

function buildPage() {
  console.log("thinkscope: building the page (npm run build -w @thinkscope/web)...");
  // Under `npm start`, npm_execpath is npm's own script: run it with this Node.
  const npm = process.env.npm_execpath;
  const result = npm
    ? spawnSync(process.execPath, [npm, "run", "build", "-w", "@thinkscope/web"], {
        cwd: root,
        stdio: "inherit",
      })
    : spawnSync("npm", ["run", "build", "-w", "@thinkscope/web"], {
        cwd: root,
        stdio: "inherit",
        shell: process.platform === "win32",
      });
  if (result.status === 0) return;
  console.warn(
    existsSync(builtPage)
      ? "thinkscope: the page did not build; serving the previous build."
      : "thinkscope: the page did not build; the server runs, and its home page says how to build it.",
  );
}

if (existsSync(join(web, "src")) && pageIsStale()) buildPage();

const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const server = spawn(
  process.execPath,
  ["--import", tsx, join(root, "apps", "server", "src", "main.ts")],
  {
    stdio: "inherit",
  },
);

// Pass stop signals on (a Ctrl+C in a terminal reaches both; the server takes
// a repeat within a second as the same request) and wait for a clean stop.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.kill(signal));
server.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
