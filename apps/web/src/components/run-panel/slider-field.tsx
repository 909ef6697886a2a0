import { useId, useState } from "react";

interface SliderFieldProps {
  label: string;
  value: number;
  onChange(value: number): void;
  /** The slider's range; the number field also accepts values beyond it, up to `inputMax`. */
  min: number;
  max: number;
  step?: number;
  /** Slider stops (e.g. 256, 512, 1024...) for ranges a linear slider serves badly. */
  stops?: readonly number[];
  inputMax?: number;
  integer?: boolean;
  hint?: string;
  problem?: string | undefined;
}

function nearestStop(stops: readonly number[], value: number): number {
  let best = 0;
  for (let i = 1; i < stops.length; i += 1) {
    if (Math.abs(stops[i]! - value) < Math.abs(stops[best]! - value)) best = i;
  }
  return best;
}

/**
 * A slider for quick changes and a number field for the exact value, bound
 * to one setting. The number field keeps what the user types until it
 * parses, so clearing it to type a new number works.
 */
export function SliderField({
  label,
  value,
  onChange,
  min,
  max,
  step = 1,
  stops,
  inputMax,
  integer = true,
  hint,
  problem,
}: SliderFieldProps) {
  const id = useId();
  const [draft, setDraft] = useState<string | null>(null);
  const sliderValue = stops ? nearestStop(stops, value) : Math.min(Math.max(value, min), max);

  const commit = (text: string) => {
    setDraft(text);
    if (text.trim() === "") return;
    const parsed = Number(text);
    if (!Number.isFinite(parsed)) return;
    if (integer && !Number.isInteger(parsed)) return;
    onChange(parsed);
  };

  return (
    <div className="field">
      <label htmlFor={`${id}-number`}>{label}</label>
      <div className="slider-row">
        <input
          type="range"
          aria-label={`${label} slider`}
          aria-valuetext={String(value)}
          min={stops ? 0 : min}
          max={stops ? stops.length - 1 : max}
          step={stops ? 1 : step}
          value={sliderValue}
          onChange={(event) => {
            const position = Number(event.target.value);
            setDraft(null);
            onChange(stops ? (stops[position] ?? value) : position);
          }}
        />
        <input
          id={`${id}-number`}
          type="number"
          inputMode={integer ? "numeric" : "decimal"}
          min={min}
          max={inputMax}
          step={step}
          value={draft ?? String(value)}
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem || hint ? `${id}-note` : undefined}
          onChange={(event) => commit(event.target.value)}
          onBlur={() => setDraft(null)}
        />
      </div>
      {(problem || hint) && (
        <span id={`${id}-note`} className={problem ? "problem" : "hint"}>
          {problem ?? hint}
        </span>
      )}
    </div>
  );
}
