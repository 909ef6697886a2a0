import { useId, type InputHTMLAttributes } from "react";

/**
 * One labelled text input bound to a value, with its hint or its problem
 * below (announced with the field, not as a separate alert). The run panel
 * and the experiment form both use it.
 */
export function TextField({
  label,
  value,
  onChange,
  problem,
  hint,
  inputProps,
}: {
  label: string;
  value: string;
  onChange(value: string): void;
  problem?: string | undefined;
  hint?: string | undefined;
  inputProps?: InputHTMLAttributes<HTMLInputElement>;
}) {
  const id = useId();
  const note = problem ?? hint;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="text"
        value={value}
        spellCheck={false}
        aria-invalid={problem ? true : undefined}
        aria-describedby={note ? `${id}-note` : undefined}
        onChange={(event) => onChange(event.target.value)}
        {...inputProps}
      />
      {note && (
        <span id={`${id}-note`} className={problem ? "problem" : "hint"}>
          {note}
        </span>
      )}
    </div>
  );
}

/** Numbers typed as text: a numeric keyboard on phones, no spinner that changes values on scroll. */
export const NUMERIC = { inputMode: "numeric" } as const;
export const DECIMAL = { inputMode: "decimal" } as const;
/** Delimiters and prefixes, whose exact characters (spaces, newlines as \n) matter. */
export const MONO = { className: "mono" } as const;
