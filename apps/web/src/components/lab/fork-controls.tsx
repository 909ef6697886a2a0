import { useState } from "react";

/** Texts to insert at the fork point, as the page offers them. */
export function insertPresets(answer: string): string[] {
  return ["Wait", "Hmm, let me reconsider.", `The answer is not ${answer.trim() || "X"}.`];
}

/**
 * What to do at the chosen point: continue with an inserted text (a preset
 * or free text), or cut the thinking there and force the answer.
 */
export function ForkControls({
  point,
  inThinking,
  answer,
  busy,
  onContinue,
  onCut,
}: {
  point: number;
  inThinking: boolean;
  answer: string;
  busy: boolean;
  onContinue(insert: string): void;
  onCut(): void;
}) {
  const [insert, setInsert] = useState("");
  return (
    <div className="fork-controls" role="group" aria-label="Fork here">
      <p className="hint">
        Fork at token <strong data-testid="fork-point">{point}</strong>
        {inThinking ? " (in the thinking)" : " (in the answer)"}
      </p>
      <div className="fork-presets">
        {insertPresets(answer).map((preset) => (
          <button key={preset} type="button" className="small" onClick={() => setInsert(preset)}>
            Insert “{preset}”
          </button>
        ))}
      </div>
      <label className="fork-insert">
        Text to insert
        <input
          type="text"
          value={insert}
          placeholder="nothing: continue as it is"
          onChange={(event) => setInsert(event.target.value)}
        />
      </label>
      <div className="fork-actions">
        <button type="button" disabled={busy} onClick={() => onContinue(insert)}>
          Continue from here
        </button>
        {inThinking && (
          <button type="button" className="small" disabled={busy} onClick={onCut}>
            Cut here and force the answer
          </button>
        )}
      </div>
    </div>
  );
}
