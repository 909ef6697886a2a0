/**
 * Settings that need the backend's help, not only the engine's: a backend
 * that cannot apply one refuses the run (400 `unsupported_by_backend`, the
 * field named) before anything is generated, never ignores it.
 */
import type { BackendCapabilities, ResolvedSettings } from "@thinkscope/protocol";
import { InvalidRequestError } from "../errors.ts";

export function assertBackendSupports(
  settings: ResolvedSettings,
  capabilities: BackendCapabilities,
  backendKind = "this",
): void {
  if ((settings.suppress?.length ?? 0) > 0 && capabilities.suppress !== true) {
    throw new InvalidRequestError(
      "unsupported_by_backend",
      `budget_forcing.suppress: the ${backendKind} backend cannot ban words from generation ` +
        "(it needs token bias, vLLM bad_words or llama.cpp logit_bias). Leave suppress out, or use the embedded, vLLM or llama.cpp backend.",
    );
  }
}
