import type { GenerationEvent } from "@thinkscope/core";

/** Generated output as it arrived from a server: text and what is known of its tokens. */
export interface OutputPiece {
  text: string;
  /** Tokens this piece stands for: exact when `tokenIds` is set, else the best estimate. */
  tokenCount: number;
  tokenIds?: number[];
  probeProbabilities?: number[];
  /** Per token, the log-probability of the token generated. */
  logprobs?: number[];
  /** Per token, the entropy in bits of the step's distribution (estimated from the top candidates). */
  entropies?: number[];
}

/**
 * Several pieces as one piece. Ids (and probe probabilities) are kept only
 * when every piece has them, so a merged piece never claims ids it lacks.
 * One pass: a fast server's read holds hundreds of one-token pieces.
 */
export function mergePieces(pieces: readonly OutputPiece[]): OutputPiece | undefined {
  if (pieces.length <= 1) return pieces[0];
  let text = "";
  let tokenCount = 0;
  let tokenIds: number[] | undefined = [];
  let probeProbabilities: number[] | undefined = [];
  let logprobs: number[] | undefined = [];
  let entropies: number[] | undefined = [];
  for (const piece of pieces) {
    text += piece.text;
    tokenCount += piece.tokenCount;
    tokenIds = append(tokenIds, piece.tokenIds);
    probeProbabilities = append(probeProbabilities, piece.probeProbabilities);
    logprobs = append(logprobs, piece.logprobs);
    entropies = append(entropies, piece.entropies);
  }
  const merged: OutputPiece = { text, tokenCount };
  if (tokenIds) merged.tokenIds = tokenIds;
  if (probeProbabilities) merged.probeProbabilities = probeProbabilities;
  if (logprobs) merged.logprobs = logprobs;
  if (entropies) merged.entropies = entropies;
  return merged;
}

/** `into` with `values` added, or undefined once any piece lacks them. */
function append(into: number[] | undefined, values: number[] | undefined): number[] | undefined {
  if (!into || !values) return undefined;
  for (const value of values) into.push(value);
  return into;
}

/** The `tokens` event for a piece, or nothing when it carries neither text nor tokens. */
export function tokensEvent(piece: OutputPiece | undefined): GenerationEvent | undefined {
  if (!piece || (piece.text === "" && piece.tokenCount === 0)) return undefined;
  const event: GenerationEvent = { type: "tokens", text: piece.text, tokenCount: piece.tokenCount };
  if (piece.tokenIds) event.tokenIds = piece.tokenIds;
  if (piece.probeProbabilities) event.probeProbabilities = piece.probeProbabilities;
  if (piece.logprobs) event.logprobs = piece.logprobs;
  if (piece.entropies) event.entropies = piece.entropies;
  return event;
}
