/**
 * Turns the configured backend specs (`THINKSCOPE_BACKEND`) into backends.
 * Specs come only from the operator's configuration, never from a request.
 */
import { createEmbeddedBackend, createServerBackend, parseBackendSpec } from "@thinkscope/backends";
import { ThinkscopeError } from "@thinkscope/core";
import type { ScriptedBackendOptions } from "@thinkscope/core/testing";
import { ConfigError, type ServerConfig } from "../config/config.ts";
import type { RegisteredBackend } from "./registry.ts";

export type BackendFactoryConfig = Pick<
  ServerConfig,
  "backends" | "model" | "apiKey" | "dataDir" | "threads" | "enableTestBackends"
>;

export async function createBackends(config: BackendFactoryConfig): Promise<RegisteredBackend[]> {
  const created: RegisteredBackend[] = [];
  for (const [index, spec] of config.backends.entries()) {
    // THINKSCOPE_MODEL names the default backend's model; the others serve their own first model.
    const model = index === 0 ? config.model : undefined;
    created.push(await createBackend(spec, model, config));
  }
  return created;
}

async function createBackend(
  spec: string,
  model: string | undefined,
  config: BackendFactoryConfig,
): Promise<RegisteredBackend> {
  if (/^scripted(:|$)/i.test(spec)) {
    if (!config.enableTestBackends) {
      throw new ConfigError(
        'THINKSCOPE_BACKEND "scripted:..." is a test-only backend; set THINKSCOPE_ENABLE_TEST_BACKENDS=1 to use it.',
      );
    }
    return createScripted(spec.slice("scripted".length + 1));
  }
  try {
    const parsed = parseBackendSpec(spec);
    if (parsed.kind === "embedded") {
      // `embedded:PATH` names the model in the spec; plain `embedded` takes THINKSCOPE_MODEL.
      const backend = createEmbeddedBackend({
        model: parsed.model ?? model,
        dataDir: config.dataDir,
        threads: config.threads,
      });
      return { backend };
    }
    return { backend: createServerBackend(parsed, { apiKey: config.apiKey, model }) };
  } catch (error) {
    if (ThinkscopeError.isInstance(error)) throw new ConfigError(error.message);
    throw error;
  }
}

/**
 * `scripted:{"replies":[...],"chunkDelayMs":50,"id":"slow"}`: the in-memory
 * ScriptedBackend, for tests that start the real server process (the crash test).
 */
async function createScripted(json: string): Promise<RegisteredBackend> {
  let options: ScriptedBackendOptions & { id?: string };
  try {
    options = JSON.parse(json || "{}") as typeof options;
  } catch (error) {
    throw new ConfigError(
      `THINKSCOPE_BACKEND scripted: the options are not JSON: ${(error as Error).message}`,
    );
  }
  if (
    !Array.isArray(options.replies) ||
    !options.replies.every((reply) => typeof reply === "string")
  ) {
    throw new ConfigError('THINKSCOPE_BACKEND scripted: needs { "replies": ["..."] }.');
  }
  // Loaded only here so a deployment never imports the testing module.
  const { ScriptedBackend } = await import("@thinkscope/core/testing");
  const { id, ...scripted } = options;
  return { id, backend: new ScriptedBackend(scripted) };
}
