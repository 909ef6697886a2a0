import type { EngineEvent, InjectionKind } from "@thinkscope/protocol";

/**
 * A run's continuation as the pieces its events numbered: each with the
 * token index it starts at, so a click on one names a fork point.
 */
export interface TokenPiece {
  /** Continuation tokens before this piece. */
  at: number;
  tokens: number;
  text: string;
  phase: "thinking" | "answer";
  injection?: InjectionKind;
  /** Exact ids, when the backend gave them. */
  ids?: readonly number[];
}

export function tokenPieces(events: readonly EngineEvent[]): TokenPiece[] {
  const pieces: TokenPiece[] = [];
  let at = 0;
  let phase: "thinking" | "answer" = "thinking";
  for (const event of events) {
    if (event.type === "phase") phase = "answer";
    if (event.type !== "delta" && event.type !== "injection") continue;
    const piece: TokenPiece = {
      at,
      tokens: event.tokens,
      text: event.text,
      phase: event.type === "delta" ? event.phase : phase,
    };
    if (event.type === "injection") piece.injection = event.kind;
    if (event.tokenIds) piece.ids = event.tokenIds;
    pieces.push(piece);
    at += event.tokens;
  }
  return pieces;
}

/**
 * Where two runs' continuations part: the tokens they share from the start
 * (compared by ids where both have them, else by text), and the text of that
 * shared prefix.
 */
export function divergence(
  a: readonly TokenPiece[],
  b: readonly TokenPiece[],
): { tokens: number; text: string } {
  let tokens = 0;
  let text = "";
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    const same =
      x.ids && y.ids
        ? x.ids.length === y.ids.length && x.ids.every((id, k) => id === y.ids![k])
        : x.text === y.text && x.tokens === y.tokens;
    if (!same || x.injection !== y.injection) break;
    tokens += x.tokens;
    text += x.text;
  }
  return { tokens, text };
}

/** The pieces from token `from` on. */
export function piecesFrom(pieces: readonly TokenPiece[], from: number): TokenPiece[] {
  return pieces.filter((p) => p.at >= from);
}

/** Snap a chosen point to a sentence start within `reach` tokens, if there is one. */
export function snapPoint(at: number, boundaries: readonly number[], reach = 2): number {
  let best = at;
  let distance = reach + 1;
  for (const boundary of boundaries) {
    const d = Math.abs(boundary - at);
    if (d < distance) {
      best = boundary;
      distance = d;
    }
  }
  return best;
}
