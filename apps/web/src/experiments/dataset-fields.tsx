import { useId } from "react";
import { formatCount } from "../lib/format.ts";
import { useApp } from "../store/app-store.ts";
import {
  GENERATED_KINDS,
  type DatasetKind,
  type DraftProblems,
  type ExperimentDraft,
} from "../lib/experiment-draft.ts";
import { SegmentedChoice } from "../components/segmented-choice.tsx";
import { TextField, NUMERIC } from "../components/text-field.tsx";
import { previewJsonl } from "../lib/jsonl-preview.ts";

const KINDS: { value: DatasetKind; label: string }[] = [
  { value: "preset", label: "Preset" },
  { value: "generator", label: "Generated" },
  { value: "path", label: "Server file" },
  { value: "upload", label: "Upload" },
];

type SetDraft = (patch: Partial<ExperimentDraft>) => void;

function PresetChoice({ draft, set }: { draft: ExperimentDraft; set: SetDraft }) {
  const presets = useApp((s) => s.experimentPresets);
  const id = useId();
  if (presets === null) return <p className="hint">Loading presets…</p>;
  if (presets.length === 0) return <p className="hint">This server offers no presets.</p>;
  const chosen = presets.find((p) => p.id === draft.presetId);
  return (
    <div className="field">
      <label htmlFor={`${id}-preset`}>Preset</label>
      <select
        id={`${id}-preset`}
        value={draft.presetId}
        onChange={(event) => set({ presetId: event.target.value, datasetTouched: true })}
      >
        {presets.map((p) => (
          <option key={p.id} value={p.id}>
            {p.title}
          </option>
        ))}
      </select>
      {chosen && <span className="hint">{chosen.description}</span>}
    </div>
  );
}

function GeneratorFields({
  draft,
  set,
  problems,
}: {
  draft: ExperimentDraft;
  set: SetDraft;
  problems: DraftProblems;
}) {
  const id = useId();
  const generator = draft.generator;
  const patch = (p: Partial<ExperimentDraft["generator"]>) =>
    set({ generator: { ...generator, ...p } });
  return (
    <>
      <div className="exp-row">
        <TextField
          label="Problems"
          value={generator.count}
          onChange={(count) => patch({ count })}
          problem={problems.count}
          inputProps={NUMERIC}
        />
        <TextField
          label="Digits"
          value={generator.digits}
          onChange={(digits) => patch({ digits })}
          problem={problems.digits}
          hint="Difficulty: digits per number."
          inputProps={NUMERIC}
        />
        <TextField
          label="Generator seed"
          value={generator.seed}
          onChange={(seed) => patch({ seed })}
          problem={problems.generatorSeed}
          inputProps={NUMERIC}
        />
      </div>
      <div className="field" role="group" aria-labelledby={`${id}-kinds`}>
        <span className="field-label" id={`${id}-kinds`}>
          Kinds of problem
        </span>
        <div className="inline">
          {GENERATED_KINDS.map((kind) => (
            <label key={kind} className="check">
              <input
                type="checkbox"
                checked={generator.kinds.includes(kind)}
                onChange={(event) =>
                  patch({
                    kinds: event.target.checked
                      ? GENERATED_KINDS.filter((k) => k === kind || generator.kinds.includes(k))
                      : generator.kinds.filter((k) => k !== kind),
                  })
                }
              />
              {kind}
            </label>
          ))}
        </div>
        {problems.kinds && <span className="problem">{problems.kinds}</span>}
      </div>
    </>
  );
}

function ColumnFields({
  draft,
  set,
  problems,
  keys,
}: {
  draft: ExperimentDraft;
  set: SetDraft;
  problems: DraftProblems;
  keys: readonly string[];
}) {
  const id = useId();
  const patch = (p: Partial<ExperimentDraft["columns"]>) =>
    set({ columns: { ...draft.columns, ...p } });
  const listId = keys.length > 0 ? `${id}-keys` : undefined;
  const listProps = listId ? { list: listId } : {};
  return (
    <details className="exp-columns" open={problems.columns !== undefined}>
      <summary>Column mapping (for files in other shapes)</summary>
      <p className="hint">
        AIME and MATH-500 (<code>problem</code>, <code>answer</code>) and GSM8K (
        <code>question</code>, <code>answer</code> ending in <code>#### N</code>) are recognised;
        leave these empty for them.
      </p>
      {listId && (
        <datalist id={listId}>
          {keys.map((key) => (
            <option key={key} value={key} />
          ))}
        </datalist>
      )}
      <div className="exp-row">
        <TextField
          label="Problem column"
          value={draft.columns.problem}
          onChange={(problem) => patch({ problem })}
          inputProps={listProps}
        />
        <TextField
          label="Answer column"
          value={draft.columns.answer}
          onChange={(answer) => patch({ answer })}
          inputProps={listProps}
        />
        <TextField
          label="Id column"
          value={draft.columns.id}
          onChange={(value) => patch({ id: value })}
          hint="Optional."
          inputProps={listProps}
        />
      </div>
      {problems.columns && <span className="problem">{problems.columns}</span>}
    </details>
  );
}

function UploadFields({
  draft,
  set,
  problems,
}: {
  draft: ExperimentDraft;
  set: SetDraft;
  problems: DraftProblems;
}) {
  const id = useId();
  const upload = draft.upload;
  return (
    <>
      <div className="field">
        <label htmlFor={`${id}-file`}>JSONL file</label>
        <input
          id={`${id}-file`}
          type="file"
          accept=".jsonl,.ndjson,application/x-ndjson,application/json,text/plain"
          aria-invalid={problems.upload ? true : undefined}
          onChange={async (event) => {
            const file = event.target.files?.[0];
            if (!file) return;
            const text = await file.text();
            set({ upload: { name: file.name, text, preview: previewJsonl(text) } });
          }}
        />
        {upload && !upload.preview.error && (
          <span className="hint">
            {upload.name}: {formatCount(upload.preview.rows)} rows with{" "}
            {upload.preview.keys.join(", ")}
            {upload.preview.shape ? "" : " (map the columns below)"}.
            {upload.preview.sample && <> First: “{upload.preview.sample}”</>}
          </span>
        )}
        {problems.upload && <span className="problem">{problems.upload}</span>}
      </div>
      <ColumnFields draft={draft} set={set} problems={problems} keys={upload?.preview.keys ?? []} />
    </>
  );
}

/** Where the problems come from, and which slice of them runs. */
export function DatasetFields({
  draft,
  set,
  problems,
}: {
  draft: ExperimentDraft;
  set: SetDraft;
  problems: DraftProblems;
}) {
  return (
    <fieldset>
      <legend>Dataset</legend>
      <SegmentedChoice
        label="Dataset source"
        options={KINDS}
        value={draft.datasetKind}
        onChange={(datasetKind) => set({ datasetKind, datasetTouched: true })}
      />
      <div className="exp-dataset-body">
        {draft.datasetKind === "preset" && <PresetChoice draft={draft} set={set} />}
        {draft.datasetKind === "generator" && (
          <GeneratorFields draft={draft} set={set} problems={problems} />
        )}
        {draft.datasetKind === "path" && (
          <>
            <TextField
              label="Path on the server"
              value={draft.path}
              onChange={(path) => set({ path })}
              problem={problems.path}
              hint="A JSONL file in the data directory, the repository or THINKSCOPE_DATASET_DIRS, e.g. ../shared/data/gsm8k-test.jsonl."
              inputProps={{ placeholder: "../shared/data/gsm8k-test.jsonl" }}
            />
            <ColumnFields draft={draft} set={set} problems={problems} keys={[]} />
          </>
        )}
        {draft.datasetKind === "upload" && (
          <UploadFields draft={draft} set={set} problems={problems} />
        )}
        {problems.dataset && <p className="problem">{problems.dataset}</p>}
      </div>
      <div className="exp-row">
        <TextField
          label="Skip (offset)"
          value={draft.offset}
          onChange={(offset) => set({ offset })}
          problem={problems.offset}
          inputProps={NUMERIC}
        />
        <TextField
          label="Take at most (limit)"
          value={draft.limit}
          onChange={(limit) => set({ limit })}
          problem={problems.limit}
          hint="Empty: all the rest."
          inputProps={{ ...NUMERIC, placeholder: "all" }}
        />
      </div>
    </fieldset>
  );
}
