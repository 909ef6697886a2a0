import type { BackendInfo } from "@thinkscope/protocol";

/** How a backend reads in a picker: its id, kind, and state when not ready. */
export function backendOptionLabel(backend: BackendInfo): string {
  const state = backend.readiness.state !== "ready" ? ` (${backend.readiness.state})` : "";
  return `${backend.id} · ${backend.kind}${state}`;
}

/**
 * The model picker shared by the playground and the experiment form: the
 * backend's default first, then its models; a value the backend does not
 * list (from a link) stays selectable rather than being dropped.
 */
export function ModelSelect({
  id,
  models,
  value,
  onChange,
}: {
  id: string;
  models: readonly string[];
  value: string;
  onChange: (model: string) => void;
}) {
  if (models.length === 0) return null;
  return (
    <div className="field">
      <label htmlFor={id}>Model</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">Default ({models[0]})</option>
        {models.map((m) => (
          <option key={m} value={m}>
            {m}
          </option>
        ))}
        {value !== "" && !models.includes(value) && <option value={value}>{value}</option>}
      </select>
    </div>
  );
}
