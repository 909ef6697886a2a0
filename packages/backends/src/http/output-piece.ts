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
 */
export function mergePieces(pieces: readonly OutputPiece[]): OutputPiece | undefined {
  if (pieces.length === 0) return undefined;
  const merged: OutputPiece = {
    text: pieces.map((piece) => piece.text).join(""),
    tokenCount: pieces.reduce((sum, piece) => sum + piece.tokenCount, 0),
  };
  if (pieces.every((piece) => piece.tokenIds !== undefined)) {
    merged.tokenIds = pieces.flatMap((piece) => piece.tokenIds ?? []);
  }
  if (pieces.every((piece) => piece.probeProbabilities !== undefined)) {
    merged.probeProbabilities = pieces.flatMap((piece) => piece.probeProbabilities ?? []);
  }
  if (pieces.every((piece) => piece.logprobs !== undefined)) {
    merged.logprobs = pieces.flatMap((piece) => piece.logprobs ?? []);
  }
  if (pieces.every((piece) => piece.entropies !== undefined)) {
    merged.entropies = pieces.flatMap((piece) => piece.entropies ?? []);
  }
  return merged;
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
