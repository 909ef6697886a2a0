#!/usr/bin/env node
/**
 * `npm start`: installs the dependencies when they are missing or older than
 * the lockfile, builds the page when apps/web/dist is missing or older than
 * its sources, then runs the server (TypeScript through tsx, no build step).
 * Everything before the server uses Node's standard library only, so it runs
 * on a fresh clone.
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

/**
 * Runs npm with this Node (under `npm start`, npm_execpath is npm's own
 * script). `quiet`: its output is kept, and shown only if it fails.
 */
function npm(args, { quiet = false } = {}) {
  // A kept output over spawnSync's 1 MB default would kill the build: allow far more.
  const options = {
    cwd: root,
    stdio: quiet ? "pipe" : "inherit",
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  };
  const execpath = process.env.npm_execpath;
  const result = execpath
    ? spawnSync(process.execPath, [execpath, ...args], options)
    : spawnSync("npm", args, { ...options, shell: process.platform === "win32" });
  if (quiet && result.status !== 0) {
    process.stdout.write(result.stdout ?? "");
    process.stderr.write(result.stderr ?? "");
  }
  return result;
}

function installIfNeeded() {
  const installed = join(root, "node_modules", ".package-lock.json");
  const lock = join(root, "package-lock.json");
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(lock).mtimeMs) return;
  const fresh = !existsSync(installed);
  console.log(`thinkscope: installing dependencies (npm ${fresh ? "ci" : "install"})...`);
  const result = npm(
    fresh ? ["ci", "--no-audit", "--no-fund"] : ["install", "--no-audit", "--no-fund"],
  );
  if (result.status !== 0) {
    console.error("thinkscope: npm could not install the dependencies; see its messages above.");
    process.exit(result.status ?? 1);
  }
}

function buildPage() {
  console.log("thinkscope: building the page (npm run build -w @thinkscope/web)...");
  const result = npm(["run", "build", "-w", "@thinkscope/web"], { quiet: true });
  if (result.status === 0) return;
  console.warn(
    existsSync(builtPage)
      ? "thinkscope: the page did not build; serving the previous build."
      : "thinkscope: the page did not build; the server runs, and its home page says how to build it.",
  );
}

installIfNeeded();
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
