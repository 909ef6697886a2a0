import { useId, useMemo } from "react";
import { useShallow } from "zustand/react/shallow";
import { backendOptionLabel, ModelSelect } from "../components/run-panel/model-select.tsx";
import { navigate } from "../lib/hash-route.ts";
import { useApp } from "../store/app-store.ts";
import { DatasetFields } from "./dataset-fields.tsx";
import {
  ABLATION_WAIT_STRINGS,
  itemSummary,
  planItems,
  presetOf,
  usesPresetSettings,
  validateDraft,
  type DraftProblems,
  type ExperimentDraft,
} from "../lib/experiment-draft.ts";
import { SegmentedChoice } from "../components/segmented-choice.tsx";
import { DECIMAL, TextField, NUMERIC } from "../components/text-field.tsx";

const PROMPT_MODES = [
  { value: "chat", label: "Chat (model's template)" },
  { value: "raw", label: "Raw text" },
] as const;

type SetDraft = (patch: Partial<ExperimentDraft>) => void;

/** Backend and model, from the same /api/backends answer the playground's picker uses. */
function ModelFields({ draft, set }: { draft: ExperimentDraft; set: SetDraft }) {
  const backends = useApp((s) => s.backends);
  const id = useId();
  const preset = draft.datasetKind === "preset";
  const fallback = backends?.find((b) => b.default) ?? backends?.[0];
  const backend = draft.backend === "" ? fallback : backends?.find((b) => b.id === draft.backend);
  const models = draft.backend === "" && preset ? [] : (backend?.models ?? []);
  return (
    <fieldset>
      <legend>Model</legend>
      <div className="field">
        <label htmlFor={`${id}-backend`}>Backend</label>
        <select
          id={`${id}-backend`}
          value={draft.backend}
          onChange={(event) => set({ backend: event.target.value, model: "" })}
        >
          <option value="">
            {preset
              ? "The one serving the preset's model"
              : `Server default${fallback ? ` (${fallback.id})` : ""}`}
          </option>
          {(backends ?? []).map((b) => (
            <option key={b.id} value={b.id}>
              {backendOptionLabel(b)}
            </option>
          ))}
        </select>
        {backends === null && <span className="hint">Loading backends…</span>}
      </div>
      <ModelSelect
        id={`${id}-model`}
        models={models}
        value={draft.model}
        onChange={(model) => set({ model })}
      />
    </fieldset>
  );
}

function PromptFields({
  draft,
  set,
  problems,
}: {
  draft: ExperimentDraft;
  set: SetDraft;
  problems: DraftProblems;
}) {
  const id = useId();
  return (
    <fieldset>
      <legend>Prompt</legend>
      <SegmentedChoice
        label="Prompt mode"
        options={PROMPT_MODES}
        value={draft.promptMode}
        onChange={(promptMode) => set({ promptMode })}
      />
      <div className="field">
        <label htmlFor={`${id}-template`}>Prompt template</label>
        <textarea
          id={`${id}-template`}
          rows={3}
          value={draft.template}
          spellCheck={false}
          aria-invalid={problems.template ? true : undefined}
          onChange={(event) => set({ template: event.target.value })}
        />
        <span className={problems.template ? "problem" : "hint"}>
          {problems.template ??
            (draft.promptMode === "chat"
              ? "The user message; {problem} is replaced by each problem."
              : "The exact text the model continues, ending where it starts thinking.")}
        </span>
      </div>
      <div className="exp-row">
        <div className="field">
          <label htmlFor={`${id}-format`}>Thinking format</label>
          <select
            id={`${id}-format`}
            value={draft.format}
            onChange={(event) => set({ format: event.target.value as ExperimentDraft["format"] })}
          >
            <option value="think-tags">think-tags</option>
            <option value="s1">s1</option>
          </select>
        </div>
        <TextField
          label="Max answer tokens"
          value={draft.maxAnswerTokens}
          onChange={(maxAnswerTokens) => set({ maxAnswerTokens })}
          problem={problems.maxAnswerTokens}
          inputProps={NUMERIC}
        />
      </div>
    </fieldset>
  );
}

function SweepFields({
  draft,
  set,
  problems,
}: {
  draft: ExperimentDraft;
  set: SetDraft;
  problems: DraftProblems;
}) {
  const id = useId();
  const presetMode = draft.datasetKind === "preset";
  const own = usesPresetSettings(draft);
  return (
    <fieldset>
      <legend>Settings to sweep</legend>
      {presetMode && (
        <label className="check">
          <input
            type="checkbox"
            checked={draft.presetSettings}
            onChange={(event) => set({ presetSettings: event.target.checked })}
          />
          Run the preset&apos;s own settings
        </label>
      )}
      {!own && (
        <>
          <p className="hint">
            Comma-separated values. Two or more values sweep a setting; every combination runs.
          </p>
          <TextField
            label="num_waits"
            value={draft.numWaits}
            onChange={(numWaits) => set({ numWaits })}
            problem={problems.numWaits}
            hint="Times the end of thinking is suppressed with a wait string, e.g. 0, 1, 2, 4, 6."
          />
          <TextField
            label="max_thinking_tokens"
            value={draft.maxThinkingTokens}
            onChange={(maxThinkingTokens) => set({ maxThinkingTokens })}
            problem={problems.maxThinkingTokens}
            hint="Budget caps: the close is forced here, e.g. 256, 512, 1024."
          />
          <TextField
            label="min_thinking_tokens"
            value={draft.minThinkingTokens}
            onChange={(minThinkingTokens) => set({ minThinkingTokens })}
            problem={problems.minThinkingTokens}
            hint="Empty: no minimum."
          />
          <div className="field" role="group" aria-labelledby={`${id}-waits`}>
            <span className="field-label" id={`${id}-waits`}>
              Wait strings
            </span>
            <div className="inline">
              {ABLATION_WAIT_STRINGS.map((text) => (
                <label key={text} className="check">
                  <input
                    type="checkbox"
                    checked={draft.waitStrings.includes(text)}
                    onChange={(event) =>
                      set({
                        waitStrings: event.target.checked
                          ? ABLATION_WAIT_STRINGS.filter(
                              (w) => w === text || draft.waitStrings.includes(w),
                            )
                          : draft.waitStrings.filter((w) => w !== text),
                      })
                    }
                  />
                  <code>{text}</code>
                </label>
              ))}
            </div>
            <span className={problems.waitStrings ? "problem" : "hint"}>
              {problems.waitStrings ??
                'Several: the s1 ablation ("Wait" 53.3 vs "Hmm" 50.0 on AIME24), one setting each.'}
            </span>
          </div>
        </>
      )}
    </fieldset>
  );
}

function SamplingFields({
  draft,
  set,
  problems,
}: {
  draft: ExperimentDraft;
  set: SetDraft;
  problems: DraftProblems;
}) {
  const preset = draft.datasetKind === "preset";
  const several = Number(draft.samples) > 1;
  const temperatureHint = preset
    ? "Empty: the preset's."
    : several
      ? "Empty: 0.6 (with top_p 0.95), as Yue et al. for pass@k."
      : "Empty: greedy (0), as in the s1 paper.";
  return (
    <fieldset>
      <legend>Samples and sampling</legend>
      <div className="exp-row">
        <TextField
          label="Samples per problem"
          value={draft.samples}
          onChange={(samples) => set({ samples })}
          problem={problems.samples}
          hint={
            preset
              ? "Empty: the preset's. Several give majority vote and pass@k."
              : "Several give majority vote and pass@k."
          }
          inputProps={{ ...NUMERIC, placeholder: preset ? "preset" : "1" }}
        />
        <TextField
          label="Temperature"
          value={draft.temperature}
          onChange={(temperature) => set({ temperature })}
          problem={problems.temperature}
          hint={temperatureHint}
          inputProps={{ ...DECIMAL, placeholder: "auto" }}
        />
        <TextField
          label="top_p"
          value={draft.topP}
          onChange={(topP) => set({ topP })}
          problem={problems.topP}
          inputProps={{ ...DECIMAL, placeholder: "auto" }}
        />
        <TextField
          label="Seed"
          value={draft.seed}
          onChange={(seed) => set({ seed })}
          problem={problems.seed}
          hint="Sample i runs with seed + i."
          inputProps={{ ...NUMERIC, placeholder: preset ? "preset" : "0" }}
        />
        <TextField
          label="Concurrency"
          value={draft.concurrency}
          onChange={(concurrency) => set({ concurrency })}
          problem={problems.concurrency}
          hint="Items at once. Empty: the backend's default."
          inputProps={{ ...NUMERIC, placeholder: "auto" }}
        />
      </div>
    </fieldset>
  );
}

/** The form that starts an experiment, with the number of items it will run. */
export function ExperimentForm() {
  const { draft, presets, busy, error } = useApp(
    useShallow((s) => ({
      draft: s.experimentDraft,
      presets: s.experimentPresets,
      busy: s.experimentBusy?.action === "create",
      error: s.experimentError,
    })),
  );
  const set = useApp((s) => s.setExperimentDraft);
  const create = useApp((s) => s.createExperiment);
  const problems = useMemo(() => validateDraft(draft, presets), [draft, presets]);
  const plan = useMemo(() => planItems(draft), [draft]);
  const firstProblem = Object.values(problems)[0];
  const preset = draft.datasetKind === "preset" ? presetOf(presets, draft) : undefined;
  const id = useId();

  return (
    <form
      className="panel exp-form"
      aria-label="New experiment"
      onSubmit={async (event) => {
        event.preventDefault();
        const created = await create();
        if (created) navigate({ tab: "experiments", experimentId: created });
      }}
    >
      <h2 className="panel-title">New experiment</h2>
      <fieldset>
        <TextField
          label="Name"
          value={draft.name}
          onChange={(name) => set({ name })}
          problem={problems.name}
          hint="Optional: the dataset and settings name it otherwise."
          inputProps={{ placeholder: preset?.id ?? "" }}
        />
      </fieldset>
      <DatasetFields draft={draft} set={set} problems={problems} />
      <ModelFields draft={draft} set={set} />
      {draft.datasetKind !== "preset" && (
        <PromptFields draft={draft} set={set} problems={problems} />
      )}
      <SweepFields draft={draft} set={set} problems={problems} />
      <SamplingFields draft={draft} set={set} problems={problems} />
      <div className="run-actions exp-form-actions">
        <p className="exp-item-count" id={`${id}-count`} data-testid="experiment-item-count">
          {itemSummary(plan)}
        </p>
        <button
          type="submit"
          className="primary"
          disabled={busy || firstProblem !== undefined}
          aria-describedby={`${id}-count ${id}-why`}
        >
          {busy ? "Starting…" : "Start experiment"}
        </button>
        <span className="hint" id={`${id}-why`} role="status">
          {firstProblem ?? ""}
        </span>
        {error && (
          <p className="problem exp-form-error" role="alert">
            {error}
          </p>
        )}
      </div>
    </form>
  );
}
