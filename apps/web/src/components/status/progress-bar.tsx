import { progressFraction } from "../../lib/format.ts";

/** A labelled progress bar; indeterminate when the server gives no progress. */
export function ProgressBar({ label, progress }: { label: string; progress?: number }) {
  const fraction = progressFraction(progress);
  return (
    <div className="field">
      <span className="hint">
        {label}
        {fraction !== undefined ? ` (${Math.round(fraction * 100)}%)` : ""}
      </span>
      {fraction !== undefined ? (
        <progress max={1} value={fraction} aria-label={label} />
      ) : (
        <progress aria-label={label} />
      )}
    </div>
  );
}
