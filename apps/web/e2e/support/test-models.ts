import { COUNTING_TRANSITIONS, getTestModel } from "@thinkscope/backends/testing";

/**
 * Extra inert transformer blocks: the tokens stay exactly those of the
 * transition table, but each one costs real compute. With one block the
 * counting model writes its 44 tokens in about 20 ms, inside one 50 ms
 * WebSocket batch, so "the marks appear live" could not be observed. With
 * 384 (measured on 2 shared cores: about 20-35 tokens/s, a 97 MB file cached
 * in the temp directory) a two-wait run lasts about 2 s, and the first Wait
 * is on screen some 400 ms before the close: several batches and two chart
 * redraws apart.
 */
export const SLOW_LAYERS = 384;

export interface E2eModels {
  /** Thinks a..z, closes with </think>, answers " 42"; after "Wait" writes t..z and tries to close again. */
  counting: string;
  /** The same, but z leads back to a: it never closes by itself, so only Stop or the budget ends it. */
  looping: string;
}

/** Generates (or reuses from the temp cache) the two GGUF test models. */
export async function e2eModels(): Promise<E2eModels> {
  const [counting, looping] = await Promise.all([
    getTestModel({ layers: SLOW_LAYERS }),
    getTestModel({ layers: SLOW_LAYERS, transitions: { ...COUNTING_TRANSITIONS, z: "a" } }),
  ]);
  return { counting: counting.path, looping: looping.path };
}
