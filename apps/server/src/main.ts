/**
 * `npm start` runs this (through scripts/start.mjs): the server on HOST:PORT
 * (127.0.0.1:8787 by default), a clean stop on SIGINT or SIGTERM (running
 * runs are stored as interrupted). At a terminal a person reads: warnings
 * only (unless THINKSCOPE_LOG_LEVEL asks for more) and one line saying where
 * the server is; otherwise JSON log lines, requests included, for a collector.
 */
import type { AddressInfo } from "node:net";
import { buildApp } from "./app.ts";
import { ConfigError, loadConfig } from "./config/config.ts";
import { readyLine } from "./lib/ready-line.ts";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`thinkscope: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const atTerminal = process.stdout.isTTY === true;
  const app = await buildApp({
    config: atTerminal && config.logLevel === undefined ? { ...config, logLevel: "warn" } : config,
  });
  let stoppingSince: number | null = null;
  const stop = (signal: string) => {
    if (stoppingSince !== null) {
      // A launcher may forward the Ctrl+C its group already delivered: only a
      // later signal means the user does not want to wait.
      if (Date.now() - stoppingSince > 1_000) process.exit(130);
      return;
    }
    stoppingSince = Date.now();
    app.log.info({ signal }, "stopping");
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, "stopping failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  await app.listen({ host: config.host, port: config.port });
  if (atTerminal) console.log(readyLine(app.server.address() as AddressInfo, config.authToken));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
