import { judgeAnswer } from "../../lib/answer-check.ts";

/**
 * Right or wrong, for an answer whose reference is known; nothing otherwise,
 * and nothing while the answer is still being written.
 */
export function VerdictBadge({
  answer,
  reference,
  pending = false,
}: {
  answer: string;
  reference: string | null | undefined;
  pending?: boolean;
}) {
  if (pending || reference === undefined) return null;
  const verdict = judgeAnswer(answer, reference);
  if (verdict === null) return null;
  return (
    <span
      className="verdict"
      data-verdict={verdict}
      title={`The reference answer is ${reference}.`}
      data-testid="verdict"
    >
      {verdict === "right" ? "✓ right" : `✗ wrong (expected ${reference})`}
    </span>
  );
}
