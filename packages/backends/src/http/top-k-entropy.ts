/**
 * The entropy (bits) of a next-token distribution that a server describes
 * only by its top candidates (vLLM's `logprobs: k`, llama.cpp's `n_probs`).
 *
 * What the listed candidates leave over (the tail) is spread as thinly as the
 * candidates allow: in pieces no larger than the least likely listed
 * candidate, nor than the tail itself. Any real tail is at least that spread
 * out, so the result never exceeds the true entropy: a lower bound, exact
 * when the candidates hold all the probability. With 20 candidates it is
 * close wherever the model is fairly sure, and says "unsure" (if less than
 * fully) wherever it is not, which is what the page shades by.
 *
 * `top`: how many of the listed are the server's top candidates, when it
 * also lists tokens asked for by id (vLLM's `logprob_token_ids`) whatever
 * their rank: an unlisted token may be likelier than those, never than the
 * top ones.
 */
export function topKEntropyBits(probabilities: Iterable<number>, top = Infinity): number {
  const listed = [...probabilities].filter((p) => p > 0).sort((a, b) => b - a);
  let sum = 0;
  let bits = 0;
  for (const p of listed) {
    sum += p;
    bits -= p * Math.log2(p);
  }
  const least = listed[Math.min(top, listed.length) - 1] ?? 1;
  const tail = 1 - sum;
  // Rounding in the server's logprobs can make the listed sum a hair above 1.
  if (tail <= 1e-9) return Math.max(0, bits);
  return bits - tail * Math.log2(Math.min(tail, least));
}
