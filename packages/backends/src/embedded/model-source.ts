/**
 * Where the embedded model comes from: a local GGUF path, or a download URI
 * (`hf:owner/repo:quant`, `https://.../model.gguf`) fetched once into
 * `<THINKSCOPE_DATA_DIR>/models`.
 */
import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { resolveModelFile } from "node-llama-cpp";
import { ThinkscopeError } from "@thinkscope/core";
import { errorMessage } from "./llama-runtime.ts";
import { abortReason } from "./sequence-pool.ts";

export type ModelSource =
  { kind: "file"; path: string; spec: string } | { kind: "download"; uri: string; spec: string };

/**
 * The model used when none is configured: the repository's own tiny
 * reasoner when it has been built (`models/tiny-reasoner.gguf`), otherwise
 * Qwen3-0.6B, downloaded on first use (about 640 MB).
 */
export const DEFAULT_EMBEDDED_MODEL = Object.freeze({
  bundledPath: fileURLToPath(new URL("../../../../models/tiny-reasoner.gguf", import.meta.url)),
  downloadUri: "hf:unsloth/Qwen3-0.6B-GGUF:Q8_0",
});

/** The default model spec: the bundled file when it exists, else the download URI. */
export function resolveDefaultModel(exists: (path: string) => boolean = existsSync): string {
  return exists(DEFAULT_EMBEDDED_MODEL.bundledPath)
    ? DEFAULT_EMBEDDED_MODEL.bundledPath
    : DEFAULT_EMBEDDED_MODEL.downloadUri;
}

const WHAT_TO_DO =
  "set THINKSCOPE_MODEL to a local GGUF file, or to a download URI such as " +
  DEFAULT_EMBEDDED_MODEL.downloadUri;

/** Classify a model spec. Throws `invalid_config` on an empty spec or a malformed URL. */
export function parseModelSource(spec: string): ModelSource {
  const trimmed = spec.trim();
  if (trimmed === "") {
    throw new ThinkscopeError("invalid_config", `the embedded model is empty: ${WHAT_TO_DO}`, {
      status: 500,
    });
  }
  if (/^(hf|huggingface):/i.test(trimmed)) return { kind: "download", uri: trimmed, spec };
  if (/^https?:\/\//i.test(trimmed)) {
    if (!URL.canParse(trimmed)) {
      throw new ThinkscopeError(
        "invalid_config",
        `the embedded model URL is malformed: ${trimmed}`,
        {
          status: 500,
        },
      );
    }
    return { kind: "download", uri: trimmed, spec };
  }
  if (/^file:/i.test(trimmed)) return { kind: "file", path: fileURLToPath(trimmed), spec };
  return { kind: "file", path: resolve(trimmed), spec };
}

/** A short, stable name for the model: the file name without `.gguf`, or the URI itself. */
export function modelIdOf(source: ModelSource): string {
  return source.kind === "file" ? basename(source.path).replace(/\.gguf$/i, "") : source.uri;
}

export interface DownloadProgress {
  downloadedBytes: number;
  totalBytes: number;
}

/**
 * The local path of the model, downloading it first when needed. Throws
 * `model_unavailable` with what to do when the file is missing or the
 * download fails (offline, not found, or stalled).
 */
export async function resolveModelPath(
  source: ModelSource,
  options: {
    modelsDir: string;
    onProgress?: (progress: DownloadProgress) => void;
    signal?: AbortSignal;
    /** Give up when no data arrives for this long. Default 60 s. */
    stallTimeoutMs?: number;
  },
): Promise<string> {
  if (source.kind === "file") {
    const info = await stat(source.path).catch(() => null);
    if (!info?.isFile()) {
      throw new ThinkscopeError(
        "model_unavailable",
        `model file not found: ${source.path}; ${WHAT_TO_DO}`,
        { status: 503 },
      );
    }
    return source.path;
  }
  const { modelsDir, signal } = options;
  const stallTimeoutMs = options.stallTimeoutMs ?? 60_000;
  const fail = (reason: string, cause?: unknown) =>
    new ThinkscopeError(
      "model_unavailable",
      `could not download ${source.uri} (offline?): ${reason}. ` +
        `Put the GGUF file in ${modelsDir} and set THINKSCOPE_MODEL to its path, ` +
        `or set THINKSCOPE_MODEL to another local GGUF file`,
      { status: 503, retryable: true, cause },
    );

  // A plain URL has no name node-llama-cpp can predict, so without one it asks the
  // server before finding an already downloaded file; naming it keeps later starts offline-safe.
  const fileName = localFileNameFor(source.uri);
  if (fileName !== undefined && !existsSync(join(modelsDir, fileName))) {
    // node-llama-cpp's downloader retries an unreachable server for minutes; ask once first.
    const problem = await probeUrl(source.uri, signal);
    if (problem !== null) throw fail(problem);
  }

  // The downloader also retries a connection that stops sending; a watchdog turns that into an error.
  const watchdog = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => watchdog.abort(), stallTimeoutMs);
  };
  arm();
  try {
    const path = await resolveModelFile(source.uri, {
      directory: modelsDir,
      cli: false,
      fileName,
      signal: signal ? AbortSignal.any([signal, watchdog.signal]) : watchdog.signal,
      onProgress: ({ downloadedSize, totalSize }) => {
        arm();
        options.onProgress?.({ downloadedBytes: downloadedSize, totalBytes: totalSize });
      },
    });
    // A cancelled download resolves as if it had finished.
    if (signal?.aborted) throw abortReason(signal);
    if (watchdog.signal.aborted)
      throw fail(`the download stalled (no data for ${stallTimeoutMs / 1000} s)`);
    if (!existsSync(path)) throw fail(`the download ended without a file at ${path}`);
    return path;
  } catch (error) {
    if (ThinkscopeError.isInstance(error)) throw error;
    if (signal?.aborted) throw error;
    if (watchdog.signal.aborted)
      throw fail(`the download stalled (no data for ${stallTimeoutMs / 1000} s)`, error);
    throw fail(errorMessage(error), error);
  } finally {
    clearTimeout(timer);
  }
}

/** Null when the URL answers, else why not. */
async function probeUrl(url: string, signal: AbortSignal | undefined): Promise<string | null> {
  const timeout = AbortSignal.timeout(15_000);
  try {
    const response = await fetch(url, {
      method: "HEAD",
      redirect: "follow",
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    return response.ok ? null : `the server answered HTTP ${response.status}`;
  } catch (error) {
    if (signal?.aborted) throw error;
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error
      ? `${errorMessage(error)} (${cause.message})`
      : errorMessage(error);
  }
}

function localFileNameFor(uri: string): string | undefined {
  if (!/^https?:\/\//i.test(uri)) return undefined;
  const url = new URL(uri);
  // Hugging Face URLs get node-llama-cpp's own predictable names.
  if (url.hostname.endsWith("huggingface.co")) return undefined;
  const name = decodeURIComponent(url.pathname.split("/").pop() ?? "");
  return /\.gguf$/i.test(name) ? name : undefined;
}
