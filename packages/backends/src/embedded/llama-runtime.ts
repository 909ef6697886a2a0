/**
 * The process-wide llama.cpp runtime and the choices made once per machine:
 * which compute layer (CPU by default) and how many threads.
 */
import { availableParallelism } from "node:os";
import { getLlama, type Llama, type LlamaGpuType } from "node-llama-cpp";
import { ThinkscopeError } from "@thinkscope/core";

export type EmbeddedGpu = "auto" | Exclude<LlamaGpuType, false> | false;

const GPU_VALUES: Record<string, EmbeddedGpu> = {
  auto: "auto",
  cuda: "cuda",
  vulkan: "vulkan",
  metal: "metal",
  cpu: false,
  off: false,
  false: false,
  "0": false,
};

/** `THINKSCOPE_EMBEDDED_GPU=auto|cuda|vulkan|metal|cpu`; unset means CPU only. */
export function gpuFromEnv(value = process.env.THINKSCOPE_EMBEDDED_GPU): EmbeddedGpu {
  if (value === undefined || value.trim() === "") return false;
  const gpu = GPU_VALUES[value.trim().toLowerCase()];
  if (gpu === undefined) {
    throw new ThinkscopeError(
      "invalid_config",
      `THINKSCOPE_EMBEDDED_GPU=${value} is not one of auto, cuda, vulkan, metal, cpu`,
      { status: 500 },
    );
  }
  return gpu;
}

/** `THINKSCOPE_THREADS`, when set: a positive integer. */
export function threadsFromEnv(value = process.env.THINKSCOPE_THREADS): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const threads = Number(value);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new ThinkscopeError(
      "invalid_config",
      `THINKSCOPE_THREADS=${value} must be a positive integer`,
      {
        status: 500,
      },
    );
  }
  return threads;
}

// Below this size one thread beats any split: the per-token work is too small
// to pay for synchronizing threads (measured on the test model: 1 thread
// 1,850-4,100 tokens/s, 2 threads 23-32 tokens/s on 2 shared cores).
const SMALL_MODEL_BYTES = 64 * 1024 * 1024;

/**
 * Threads for evaluation. An explicit value wins. Otherwise one thread for a
 * small model, and for a larger one the math cores minus one, so generation
 * never competes with the server's own thread: llama.cpp's threads spin while
 * they wait for each other, and an oversubscribed CPU slows every token down
 * (measured on 2 shared cores with a 400 MB f32 model: 1 thread 27-30
 * tokens/s, 2 threads 4-5 tokens/s).
 */
export function chooseThreads(options: {
  override?: number;
  modelBytes: number;
  cpuMathCores: number;
  availableCores?: number;
}): number {
  if (options.override !== undefined) return options.override;
  if (options.modelBytes < SMALL_MODEL_BYTES) return 1;
  const available = options.availableCores ?? availableParallelism();
  return Math.max(1, Math.min(options.cpuMathCores, available - 1));
}

const runtimes = new Map<string, Promise<Llama>>();

/**
 * One llama.cpp runtime per compute layer for the whole process: loading the
 * native binding twice wastes memory and start-up time. It never builds from
 * source or downloads a binary at run time (`build: "never"`).
 */
export function getLlamaRuntime(gpu: EmbeddedGpu): Promise<Llama> {
  const key = String(gpu);
  let runtime = runtimes.get(key);
  if (!runtime) {
    runtime = getLlama({
      gpu,
      build: "never",
      // Threads are set per context (see chooseThreads); 0 makes that number exact instead of a hint.
      maxThreads: 0,
      progressLogs: false,
    }).catch((error: unknown) => {
      runtimes.delete(key);
      const hint =
        gpu === false
          ? "reinstall dependencies with `npm ci` so @node-llama-cpp/linux-x64 (the CPU build) is present"
          : `the ${gpu} build of node-llama-cpp is not installed (see docs/backends.md), or unset THINKSCOPE_EMBEDDED_GPU to run on the CPU`;
      throw new ThinkscopeError(
        "model_unavailable",
        `llama.cpp could not start: ${errorMessage(error)}; ${hint}`,
        { status: 503, cause: error },
      );
    });
    runtimes.set(key, runtime);
  }
  return runtime;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
