import { useId } from "react";
import type { BackendInfo } from "@thinkscope/protocol";
import { useApp } from "../../store/app-store.ts";
import { selectedBackend } from "../../store/selectors.ts";
import { formatCount } from "../../lib/format.ts";
import { ProgressBar } from "../status/progress-bar.tsx";
import { backendOptionLabel, ModelSelect } from "./model-select.tsx";
import { useSettings } from "./use-settings.ts";

function Capabilities({ backend }: { backend: BackendInfo }) {
  const c = backend.capabilities;
  const items: [string, boolean, string][] = [
    [
      "exact counts",
      c.exactTokenIds,
      "Every token arrives with its id: counts are exact, not estimated.",
    ],
    [
      "token-id prompts",
      c.tokenIdPrompts,
      "Continuations after a wait are sent as token ids: nothing is re-tokenized.",
    ],
    ["logprobs", c.logprobs, "Per-token probabilities: the chart can show the stop pressure."],
  ];
  return (
    <div className="badges" aria-label="Backend capabilities">
      {items.map(([name, on, why]) => (
        <span
          key={name}
          className="badge"
          data-on={on}
          title={`${why}${on ? "" : " (not available)"}`}
        >
          {on ? "✓" : "✗"} {name}
          <span className="visually-hidden">{on ? " available" : " not available"}</span>
        </span>
      ))}
      {c.contextLength !== undefined && (
        <span className="badge">context {formatCount(c.contextLength)}</span>
      )}
      {backend.family && (
        <span
          className="badge"
          title={`Budget forcing follows the ${backend.family.label} profile (${
            backend.family.matchedBy === "fallback"
              ? "no known family matched"
              : `matched by ${backend.family.matchedBy}`
          }): its delimiters, wait strings and template. \`thinkscope doctor\` checks it.`}
        >
          profile {backend.family.label}
        </span>
      )}
    </div>
  );
}

function Readiness({ backend }: { backend: BackendInfo }) {
  const r = backend.readiness;
  if (r.state === "ready") return null;
  if (r.state === "loading") {
    return (
      <ProgressBar
        label={r.message || "Loading the model…"}
        {...(r.progress !== undefined ? { progress: r.progress } : {})}
      />
    );
  }
  return <p className="problem">Unavailable: {r.message}</p>;
}

/** Backend and model, from /api/backends, with what each backend can do. */
export function BackendPicker() {
  const { settings, set, problems } = useSettings();
  const backends = useApp((s) => s.backends);
  const backendsError = useApp((s) => s.backendsError);
  const backend = useApp(selectedBackend);
  const id = useId();

  if (backends === null) {
    return (
      <fieldset>
        <legend>Model</legend>
        <p className="hint">
          {backendsError ? `Backends could not be loaded: ${backendsError}` : "Loading backends…"}
        </p>
      </fieldset>
    );
  }
  const unknownBackend =
    settings.backend !== "" && !backends.some((b) => b.id === settings.backend);
  const models = backend?.models ?? [];
  return (
    <fieldset>
      <legend>Model</legend>
      <div className="field">
        <label htmlFor={`${id}-backend`}>Backend</label>
        <select
          id={`${id}-backend`}
          value={settings.backend}
          onChange={(e) => set({ backend: e.target.value, model: "" })}
        >
          <option value="">
            Server default
            {backends.find((b) => b.default) ? ` (${backends.find((b) => b.default)?.id})` : ""}
          </option>
          {backends.map((b) => (
            <option key={b.id} value={b.id}>
              {backendOptionLabel(b)}
            </option>
          ))}
          {unknownBackend && (
            <option value={settings.backend}>{settings.backend} (not configured)</option>
          )}
        </select>
        {unknownBackend && (
          <span className="problem">This link names a backend this server does not have.</span>
        )}
        {/* What this server refuses of the settings that no other control is for (its caps). */}
        {problems.backend && <span className="problem">{problems.backend}</span>}
      </div>
      <ModelSelect
        id={`${id}-model`}
        models={models}
        value={settings.model}
        onChange={(model) => set({ model })}
      />
      {backend && (
        <>
          <Capabilities backend={backend} />
          <Readiness backend={backend} />
        </>
      )}
    </fieldset>
  );
}
