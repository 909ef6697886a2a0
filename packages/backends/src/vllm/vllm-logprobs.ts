import { topKEntropyBits } from "../http/top-k-entropy.ts";
import type { VllmLogprobs } from "./vllm-wire.ts";

/**
 * Probe probabilities from vLLM's completions logprobs.
 *
 * vLLM keys `top_logprobs` by token TEXT in `/v1/completions`. The adapter
 * asks for `return_tokens_as_token_ids: true`, which turns the keys into
 * `token_id:<id>`, and for `logprob_token_ids` (the probe ids), which makes
 * newer vLLM report the probes at every step whatever their rank. Servers
 * that ignore either field still answer: keys that are plain text are
 * matched against the probe tokens' own text (from `/detokenize`), and a
 * probe missing from the top candidates counts as probability 0 (a lower
 * bound: it was less likely than every listed candidate).
 */
export function probeProbabilities(
  logprobs: VllmLogprobs,
  tokenCount: number,
  probeIds: readonly number[],
  probeTexts: ReadonlyMap<string, number> | undefined,
): number[] {
  const wanted = new Set(probeIds);
  const result: number[] = [];
  for (let index = 0; index < tokenCount; index++) {
    const top = logprobs.top_logprobs?.[index];
    let probability = 0;
    const seen = new Set<number>();
    for (const [key, logprob] of Object.entries(top ?? {})) {
      const id = tokenIdOfKey(key) ?? probeTexts?.get(key);
      if (id === undefined || !wanted.has(id) || seen.has(id)) continue;
      seen.add(id);
      probability += Math.exp(logprob);
    }
    result.push(Math.min(1, probability));
  }
  return result;
}

/**
 * Per token, the entropy estimated from its listed candidates
 * (`topKEntropyBits`); `topK` is the `logprobs` asked for (the probe ids
 * may come on top of those).
 */
export function candidateEntropies(
  logprobs: VllmLogprobs,
  tokenCount: number,
  topK: number,
): number[] {
  const result: number[] = [];
  for (let index = 0; index < tokenCount; index++) {
    const top = logprobs.top_logprobs?.[index] ?? {};
    result.push(topKEntropyBits(Object.values(top).map(Math.exp), topK));
  }
  return result;
}

/** Whether some key is token text, so probe ids must be matched by their text. */
export function hasTextKeys(logprobs: VllmLogprobs): boolean {
  return (logprobs.top_logprobs ?? []).some((top) =>
    Object.keys(top ?? {}).some((key) => tokenIdOfKey(key) === undefined),
  );
}

function tokenIdOfKey(key: string): number | undefined {
  const match = /^token_id:(\d+)$/.exec(key);
  return match ? Number(match[1]) : undefined;
}
