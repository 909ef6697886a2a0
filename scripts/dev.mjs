#!/usr/bin/env node
/**
 * `npm run dev`: the server under `tsx watch` (restarts on change) and the
 * Vite dev server (hot reload, proxying /api, /v1 and /ws to the server) side
 * by side. Ctrl+C stops both; if either exits, the other is stopped too.
 *
 * The page is served from Vite's origin, so that origin is added to
 * THINKSCOPE_ALLOWED_ORIGINS for the WebSocket. THINKSCOPE_WEB_PORT picks
 * Vite's port (default 5173).
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const web = join(root, "apps", "web");
const require = createRequire(import.meta.url);

const host = process.env.HOST ?? "127.0.0.1";
const port = process.env.PORT ?? "8787";
const webPort = process.env.THINKSCOPE_WEB_PORT ?? "5173";
const pageOrigins = [`http://localhost:${webPort}`, `http://127.0.0.1:${webPort}`];
const allowedOrigins = [process.env.THINKSCOPE_ALLOWED_ORIGINS, ...pageOrigins]
  .filter(Boolean)
  .join(",");

const tsxCli = require.resolve("tsx/cli");
const vitePackage = createRequire(join(web, "package.json")).resolve("vite/package.json");
const viteBin = join(dirname(vitePackage), require(vitePackage).bin.vite);

const children = [
  start(
    "server",
    [tsxCli, "watch", "--clear-screen=false", join(root, "apps", "server", "src", "main.ts")],
    {
      cwd: process.cwd(),
      env: { ...process.env, THINKSCOPE_ALLOWED_ORIGINS: allowedOrigins },
    },
  ),
  start("web", [viteBin, "--port", webPort, "--strictPort"], {
    cwd: web,
    env: {
      ...process.env,
      THINKSCOPE_DEV_SERVER: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`,
    },
  }),
];

let stopping = false;

function start(name, args, options) {
  // A process group of its own, so stopping it also stops what it started (tsx's node, esbuild).
  const child = spawn(process.execPath, args, { ...options, stdio: "inherit", detached: true });
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.log(`thinkscope dev: ${name} exited (${signal ?? code}); stopping.`);
      stop(code ?? 1);
    }
  });
  return child;
}

function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // Already gone.
      }
    }
  }
  // Give them a moment to stop cleanly, then leave.
  const deadline = setTimeout(() => {
    for (const child of children) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    process.exit(code);
  }, 3000);
  deadline.unref();
  Promise.all(
    children.map((child) =>
      child.exitCode !== null || child.signalCode !== null
        ? null
        : new Promise((r) => child.once("exit", r)),
    ),
  ).then(() => process.exit(code));
}

process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
