/**
 * What other parts of Thinkscope (the CLI, experiments, benchmarks) use from
 * the server package: the app builder, the configuration, the run service
 * and the run store.
 */
export { buildApp, type App, type BuildAppOptions } from "./app.ts";
export {
  ConfigError,
  loadConfig,
  splitBackendList,
  type LoadConfigOptions,
  type ServerConfig,
} from "./config/config.ts";
export { createBackends, type BackendFactoryConfig } from "./backends/create-backends.ts";
export {
  BackendRegistry,
  type BackendEntry,
  type RegisteredBackend,
  type ResolvedModel,
} from "./backends/registry.ts";
export {
  ActiveRun,
  RunService,
  runInputFromSpec,
  toCoreSampling,
  type AbortStatus,
  type RunInput,
  type RunServiceDeps,
  type StartOptions,
} from "./services/run-service.ts";
export { renderChatPrompt, renderChatTemplate } from "./services/chat-prompt.ts";
export {
  DATABASE_FILE,
  RunBusyError,
  RunStore,
  type ImportResult,
  type NewRun,
  type RunOutcome,
  type RunQuery,
  type RunStoreOptions,
} from "./store/run-store.ts";
export { importRunsJsonl, type ImportOptions } from "./store/run-import.ts";
export { StorageError, type StorageFaultCode } from "./store/storage-error.ts";
export { createScrubber, type Scrubber } from "./lib/secrets.ts";
