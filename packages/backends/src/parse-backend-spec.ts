import { ThinkscopeError, type Backend } from "@thinkscope/core";
import type { UpstreamTimeouts } from "./http/upstream-client.ts";
import { createLlamaCppBackend } from "./llamacpp/llamacpp-backend.ts";
import { createOllamaBackend } from "./ollama/ollama-backend.ts";
import { createOpenAiBackend } from "./openai/openai-backend.ts";
import { createVllmBackend } from "./vllm/vllm-backend.ts";

export type ServerBackendKind = "vllm" | "llamacpp" | "openai" | "ollama";

/** A parsed `THINKSCOPE_BACKEND` value. */
export type BackendSpec =
  { kind: "embedded"; model?: string } | { kind: ServerBackendKind; url: string };

export type ServerBackendSpec = Extract<BackendSpec, { url: string }>;

const SERVER_KINDS: readonly ServerBackendKind[] = ["vllm", "llamacpp", "openai", "ollama"];

/** SGLang speaks vLLM's dialect of the OpenAI API. */
const ALIASES: Record<string, ServerBackendKind> = { sglang: "vllm" };

const EXAMPLES =
  "vllm:http://localhost:8000/v1, llamacpp:http://localhost:8080, openai:https://host/v1, " +
  "ollama:http://localhost:11434, embedded or embedded:PATH_OR_MODEL_URI";

/**
 * Parse `KIND:URL` (`vllm:http://localhost:8000/v1`) or `embedded` /
 * `embedded:PATH_OR_URI`. The URL is normalised to what the adapter wants:
 * the OpenAI base for `vllm`/`openai` (`/v1` added when the URL has no
 * path), the server root for `llamacpp`/`ollama` (a trailing `/v1` dropped).
 */
export function parseBackendSpec(spec: string): BackendSpec {
  const text = spec.trim();
  if (text === "") throw specError(`THINKSCOPE_BACKEND is empty. Use one of: ${EXAMPLES}.`);
  const colon = text.indexOf(":");
  const name = (colon < 0 ? text : text.slice(0, colon)).toLowerCase();
  const rest = colon < 0 ? "" : text.slice(colon + 1).trim();

  if (name === "embedded")
    return rest === "" ? { kind: "embedded" } : { kind: "embedded", model: rest };
  if (name === "http" || name === "https") {
    throw specError(
      `"${text}" has no backend kind. Say which server it is, e.g. vllm:${text} or llamacpp:${text}.`,
    );
  }
  const kind = ALIASES[name] ?? SERVER_KINDS.find((candidate) => candidate === name);
  if (!kind) {
    throw specError(
      `Unknown backend kind "${name}" in THINKSCOPE_BACKEND. Use one of: ${EXAMPLES}.`,
    );
  }
  if (rest === "")
    throw specError(
      `THINKSCOPE_BACKEND "${text}" needs the server's URL, e.g. ${kind}:http://localhost:PORT.`,
    );
  return { kind, url: normaliseUrl(kind, rest) };
}

export interface ServerBackendSettings {
  /** THINKSCOPE_API_KEY: sent upstream as a Bearer token, never to the browser. */
  apiKey?: string;
  /** THINKSCOPE_MODEL: the model name sent upstream; default: the server's first. */
  model?: string;
  /** Backend id; default: the kind. */
  id?: string;
  timeouts?: Partial<UpstreamTimeouts>;
}

/** The adapter for a server spec (a parsed one, or `KIND:URL` text). */
export function createServerBackend(
  spec: ServerBackendSpec | string,
  settings: ServerBackendSettings = {},
): Backend {
  const parsed = typeof spec === "string" ? parseBackendSpec(spec) : spec;
  if (parsed.kind === "embedded") {
    throw specError(
      "createServerBackend builds server backends only; the embedded backend has its own factory.",
    );
  }
  const options = { url: parsed.url, ...settings };
  switch (parsed.kind) {
    case "vllm":
      return createVllmBackend(options);
    case "llamacpp":
      return createLlamaCppBackend(options);
    case "openai":
      return createOpenAiBackend(options);
    case "ollama":
      return createOllamaBackend(options);
  }
}

function normaliseUrl(kind: ServerBackendKind, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw specError(`"${raw}" is not a URL. Write it in full, e.g. ${kind}:http://localhost:PORT.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw specError(`The ${kind} URL must start with http:// or https:// (got "${url.protocol}").`);
  }
  if (url.search !== "" || url.hash !== "") {
    throw specError(`The ${kind} URL must not have a query or fragment: "${raw}".`);
  }
  if (url.username !== "" || url.password !== "") {
    // fetch refuses such URLs, and a key in THINKSCOPE_BACKEND would show up wherever the spec is shown.
    throw specError(
      `The ${kind} URL must not carry credentials; put the key in THINKSCOPE_API_KEY.`,
    );
  }
  const path = url.pathname.replace(/\/+$/, "");
  const base = `${url.protocol}//${url.host}`;
  if (kind === "vllm" || kind === "openai") return `${base}${path === "" ? "/v1" : path}`;
  return `${base}${path.replace(/\/v1$/, "")}`;
}

function specError(message: string): ThinkscopeError {
  return new ThinkscopeError("invalid_backend_spec", message, { status: 500 });
}
