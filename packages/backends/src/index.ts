// Each backend adds its export here.
export {};
export * from "./embedded/index.ts";
export { createVllmBackend, type VllmBackendOptions } from "./vllm/vllm-backend.ts";
export { createLlamaCppBackend, type LlamaCppBackendOptions } from "./llamacpp/llamacpp-backend.ts";
export { createOpenAiBackend, type OpenAiBackendOptions } from "./openai/openai-backend.ts";
export { createOllamaBackend, type OllamaBackendOptions } from "./ollama/ollama-backend.ts";
export type { ServerBackendOptions } from "./http/server-backend-options.ts";
export { DEFAULT_TIMEOUTS, type UpstreamTimeouts } from "./http/upstream-client.ts";
export { UPSTREAM_ERROR_CODES } from "./http/upstream-errors.ts";
export {
  createServerBackend,
  parseBackendSpec,
  type BackendSpec,
  type ServerBackendKind,
  type ServerBackendSettings,
  type ServerBackendSpec,
} from "./parse-backend-spec.ts";
