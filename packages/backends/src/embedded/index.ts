export {
  createEmbeddedBackend,
  EmbeddedBackend,
  type EmbeddedBackendOptions,
  type EmbeddedLoadProgress,
  type EmbeddedModelInfo,
} from "./embedded-backend.ts";
export { EmbeddedSession } from "./embedded-session.ts";
export { chooseThreads, gpuFromEnv, threadsFromEnv, type EmbeddedGpu } from "./llama-runtime.ts";
export {
  DEFAULT_EMBEDDED_MODEL,
  modelIdOf,
  parseModelSource,
  resolveDefaultModel,
  type ModelSource,
} from "./model-source.ts";
