import { useId } from "react";

/** The wait strings as an editable list; the engine rotates through them. */
export function WaitStringsField({
  values,
  onChange,
  problem,
}: {
  values: string[];
  onChange(values: string[]): void;
  problem?: string | undefined;
}) {
  const id = useId();
  const update = (index: number, text: string) =>
    onChange(values.map((v, i) => (i === index ? text : v)));
  return (
    <div className="field wait-list" role="group" aria-labelledby={`${id}-label`}>
      <span className="field-label" id={`${id}-label`}>
        Wait strings
      </span>
      <ul>
        {values.map((value, index) => (
          <li key={index}>
            <input
              type="text"
              value={value}
              aria-label={`Wait string ${index + 1}`}
              aria-invalid={value === "" ? true : undefined}
              spellCheck={false}
              onChange={(event) => update(index, event.target.value)}
            />
            <button
              type="button"
              className="small"
              onClick={() => onChange(values.filter((_, i) => i !== index))}
              disabled={values.length === 1}
              aria-label={`Remove wait string ${index + 1}`}
            >
              ✕
            </button>
          </li>
        ))}
      </ul>
      <div className="inline">
        <button
          type="button"
          className="small"
          onClick={() => onChange([...values, values.length === 1 ? "Hmm" : "Alternatively"])}
        >
          + Add
        </button>
        <span className="hint">
          {values.length > 1 ? "Used in turn, one per wait." : "Appended, exactly, on each wait."}
        </span>
      </div>
      {problem && <span className="problem">{problem}</span>}
    </div>
  );
}
