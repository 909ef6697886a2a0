/**
 * `npm start` runs this (through scripts/start.mjs): the server on HOST:PORT
 * (127.0.0.1:8787 by default), JSON logs on stdout, a clean stop on SIGINT or
 * SIGTERM (running runs are stored as interrupted).
 */
import { buildApp } from "./app.ts";
import { ConfigError, loadConfig } from "./config/config.ts";

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
  const app = await buildApp({ config });
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
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
