import pino, { type Logger } from "pino";
import { BackendRegistry } from "../backends/registry.ts";
import { createBackends } from "../backends/create-backends.ts";
import type { ServerConfig } from "../config/config.ts";
import { createScrubber } from "../lib/secrets.ts";
import { RunService } from "../services/run-service.ts";
import { RunStore } from "../store/run-store.ts";

/**
 * What the CLI needs from the server without serving HTTP: the configured
 * backends, the run store (CLI runs are saved like any other) and the run
 * service. Logs go to stderr, and only warnings, so stdout stays the output.
 */
export interface LocalServices {
  config: ServerConfig;
  backends: BackendRegistry;
  store: RunStore;
  runService: RunService;
  /** Warnings and errors, to stderr. */
  log: Logger;
  close(): Promise<void>;
}

export async function openLocalServices(config: ServerConfig): Promise<LocalServices> {
  const scrub = createScrubber([config.apiKey]);
  const log = pino(
    { level: config.logLevel ?? "warn" },
    { write: (line: string) => process.stderr.write(scrub(line)) },
  );
  const backends = new BackendRegistry(await createBackends(config));
  const store = RunStore.open(config.dataDir);
  const runService = new RunService({ backends, store, log, scrub });
  return {
    config,
    backends,
    store,
    runService,
    log,
    async close() {
      await runService.abortAll();
      await backends.close();
      store.close();
    },
  };
}
