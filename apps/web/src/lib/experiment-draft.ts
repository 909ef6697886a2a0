/**
 * The create form's state, kept as the user typed it (text for every number,
 * so a half-typed value is not lost), and the pure functions around it:
 * validation with one message per field, the number of items it will run,
 * and the request it sends (`POST /api/experiments`).
 */
import {
  BUDGET_DEFAULTS,
  samplingProblems,
  type BudgetForcing,
  type ExperimentCreate,
  type ExperimentPresetInfo,
  type Sampling,
  type SettingProblem,
  type Sweep,
} from "@thinkscope/protocol";
import { formatCount } from "./format.ts";
import { columnProblem, type ColumnChoice, type JsonlPreview } from "./jsonl-preview.ts";
import { sweepProblem, sweepSettings } from "./sweep.ts";

export type DatasetKind = "preset" | "generator" | "path" | "upload";
export type GeneratedKind = "addition" | "subtraction" | "multiplication" | "expression";

export const GENERATED_KINDS: readonly GeneratedKind[] = [
  "addition",
  "subtraction",
  "multiplication",
  "expression",
];

/** The s1 paper's wait-string ablation (AIME24, 2 extensions: "Wait" 53.3, "Hmm" and "Alternatively" 50.0). */
export const ABLATION_WAIT_STRINGS = ["Wait", "Hmm", "Alternatively"] as const;

/** The preset the page offers first: the bundled model's held-out problems (docs/models.md). */
export const DEFAULT_PRESET_ID = "tiny-reasoner";

/** The server's default prompt template (apps/server experiment-plan.ts). */
export const DEFAULT_TEMPLATE = "{problem}\n\nPut your final answer within \\boxed{}.";

/** The server refuses larger experiments (MAX_ITEMS there). */
export const MAX_ITEMS = 500_000;
/** Values per swept field (the protocol's `maxItems`). */
export const MAX_SWEEP_VALUES = 64;
/** Settings per experiment (the server's MAX_SETTINGS). */
export const MAX_SETTINGS = 256;

export interface UploadedDataset {
  name: string;
  text: string;
  preview: JsonlPreview;
}

export interface ExperimentDraft {
  name: string;
  datasetKind: DatasetKind;
  /** The user chose the dataset kind, so a preset arriving later does not take over the form. */
  datasetTouched: boolean;
  presetId: string;
  /** With a preset: run the preset's own settings (true) or the sweep in the form. */
  presetSettings: boolean;
  generator: { count: string; digits: string; seed: string; kinds: GeneratedKind[] };
  path: string;
  upload: UploadedDataset | null;
  columns: ColumnChoice;
  offset: string;
  /** Empty: every problem after the offset. */
  limit: string;
  /** Empty: the server's default (for a preset: the backend serving its model). */
  backend: string;
  model: string;
  promptMode: "chat" | "raw";
  template: string;
  format: "think-tags" | "s1";
  /** Comma-separated lists; two or more values sweep the field, one sets it for every setting. */
  numWaits: string;
  maxThinkingTokens: string;
  minThinkingTokens: string;
  /** Checked wait strings; two or more sweep them (the ablation). */
  waitStrings: string[];
  maxAnswerTokens: string;
  /** Empty: the preset's value, or 1. */
  samples: string;
  /** Empty: greedy for one sample, 0.6 / 0.95 for several (Yue et al.), or the preset's. */
  temperature: string;
  topP: string;
  /** Empty: the preset's, or 0. */
  seed: string;
  /** Empty: the server's default for the backend. */
  concurrency: string;
}

export const DEFAULT_DRAFT: ExperimentDraft = {
  name: "",
  datasetKind: "generator",
  datasetTouched: false,
  presetId: DEFAULT_PRESET_ID,
  presetSettings: true,
  generator: { count: "20", digits: "3", seed: "0", kinds: ["addition"] },
  path: "",
  upload: null,
  columns: { problem: "", answer: "", id: "" },
  offset: "0",
  limit: "",
  backend: "",
  model: "",
  promptMode: "chat",
  template: DEFAULT_TEMPLATE,
  format: BUDGET_DEFAULTS.format,
  numWaits: "0, 1, 2",
  maxThinkingTokens: String(BUDGET_DEFAULTS.max_thinking_tokens),
  minThinkingTokens: "",
  waitStrings: [BUDGET_DEFAULTS.wait_string],
  maxAnswerTokens: "256",
  samples: "",
  temperature: "",
  topP: "",
  seed: "",
  concurrency: "",
};

export type DraftField =
  | "name"
  | "dataset"
  | "count"
  | "digits"
  | "generatorSeed"
  | "kinds"
  | "path"
  | "upload"
  | "columns"
  | "offset"
  | "limit"
  | "template"
  | "numWaits"
  | "maxThinkingTokens"
  | "minThinkingTokens"
  | "waitStrings"
  | "maxAnswerTokens"
  | "samples"
  | "temperature"
  | "topP"
  | "seed"
  | "concurrency"
  | "items";

export type DraftProblems = Partial<Record<DraftField, string>>;

/** A field of the request's `budget_forcing` or `sampling`, as the protocol names problems. */
type SettingField = keyof BudgetForcing | keyof Sampling;

/**
 * The form's field for each field of the request's `budget_forcing` and
 * `sampling`, so a problem the protocol finds shows beside what edits it; a
 * problem with a field the form has none for is said beside Start.
 */
const DRAFT_FIELD_OF: Partial<Record<SettingField, DraftField>> = {
  max_thinking_tokens: "maxThinkingTokens",
  min_thinking_tokens: "minThinkingTokens",
  num_waits: "numWaits",
  wait_string: "waitStrings",
  max_answer_tokens: "maxAnswerTokens",
  temperature: "temperature",
  top_p: "topP",
  seed: "seed",
};

type Parsed<T> = { value: T } | { error: string };

/** A whole number in range; `empty` is what a blank field means (undefined: blank is an error). */
function parseInteger(
  text: string,
  { min, max, empty, what }: { min: number; max?: number; empty?: number | null; what: string },
): Parsed<number | null> {
  const trimmed = text.trim();
  if (trimmed === "") {
    return empty === undefined ? { error: `Give ${what}.` } : { value: empty };
  }
  if (!/^-?\d+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) {
    return { error: `"${trimmed}" is not a whole number.` };
  }
  const value = Number(trimmed);
  if (value < min) return { error: `${capitalise(what)} must be at least ${min}.` };
  if (max !== undefined && value > max)
    return { error: `${capitalise(what)} must be at most ${max}.` };
  return { value };
}

/** A number, or blank (null). */
function parseDecimal(text: string): Parsed<number | null> {
  const trimmed = text.trim();
  if (trimmed === "") return { value: null };
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return { error: `"${trimmed}" is not a number.` };
  return { value };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * "0, 1, 2, 4" -> [0, 1, 2, 4]; blank -> []. Repeats are dropped (the server
 * refuses duplicate settings); order is kept, as it is the legend's order.
 */
export function parseCountList(text: string): Parsed<number[]> {
  const parts = text
    .split(/[\s,;]+/)
    .map((part) => part.trim())
    .filter((part) => part !== "");
  const values: number[] = [];
  for (const part of parts) {
    if (!/^\d+$/.test(part) || !Number.isSafeInteger(Number(part))) {
      return { error: `"${part}" is not a whole number of 0 or more.` };
    }
    const value = Number(part);
    if (!values.includes(value)) values.push(value);
  }
  if (values.length > MAX_SWEEP_VALUES) {
    return { error: `At most ${MAX_SWEEP_VALUES} values.` };
  }
  return { value: values };
}

/** One count, or blank (null). */
function parseCount(text: string): Parsed<number | null> {
  const parsed = parseCountList(text);
  if ("error" in parsed) return parsed;
  if (parsed.value.length > 1) return { error: "One value." };
  return { value: parsed.value[0] ?? null };
}

const valueOf = <T>(parsed: Parsed<T>): T | undefined =>
  "value" in parsed ? parsed.value : undefined;

/** Whether the preset's own settings run (rather than the form's sweep). */
export function usesPresetSettings(draft: ExperimentDraft): boolean {
  return draft.datasetKind === "preset" && draft.presetSettings;
}

/** The sweep and the shared budget fields the form describes (ignoring the preset). */
export function draftSettings(draft: ExperimentDraft): {
  base: BudgetForcing;
  sweep: Sweep;
  count: number;
} {
  const base: BudgetForcing = {};
  const sweep: Sweep = {};
  const lists: [keyof Sweep & keyof BudgetForcing, number[]][] = [
    ["max_thinking_tokens", valueOf(parseCountList(draft.maxThinkingTokens)) ?? []],
    ["min_thinking_tokens", valueOf(parseCountList(draft.minThinkingTokens)) ?? []],
    ["num_waits", valueOf(parseCountList(draft.numWaits)) ?? []],
  ];
  let count = 1;
  for (const [field, values] of lists) {
    // One value is a shared setting: sweeping it would only lengthen every legend label.
    if (values.length === 1) (base as Record<string, number>)[field] = values[0]!;
    else if (values.length > 1) {
      (sweep as Record<string, number[]>)[field] = values;
      count *= values.length;
    }
  }
  const waits = draft.waitStrings.filter((w) => w !== "");
  if (waits.length === 1) base.wait_string = waits[0]!;
  else if (waits.length > 1) {
    sweep.wait_string = waits;
    count *= waits.length;
  }
  return { base, sweep, count };
}

/** The `budget_forcing` and `sweep` the form sends; null when the preset's own settings run. */
function requestSettings(draft: ExperimentDraft): { budget: BudgetForcing; sweep: Sweep } | null {
  if (usesPresetSettings(draft)) return null;
  const { base, sweep } = draftSettings(draft);
  const budget: BudgetForcing = { ...base };
  // A preset brings its own prompt, format and answer cap; the form's are for other datasets.
  if (draft.datasetKind !== "preset") {
    budget.format = draft.format;
    const answer = valueOf(parseCount(draft.maxAnswerTokens));
    if (answer !== undefined && answer !== null) budget.max_answer_tokens = answer;
  }
  return { budget, sweep };
}

export interface ItemPlan {
  kind: DatasetKind;
  /** Problems after offset and limit; null when the server has to read the file to know. */
  problems: number | null;
  /** With an unknown file size: the limit, which the problems will not exceed. */
  problemsAtMost: number | null;
  settings: number | null;
  samples: number | null;
  /** problems x settings x samples; null when a factor is unknown. */
  items: number | null;
  /** The same, upper bound, when only the limit is known. */
  itemsAtMost: number | null;
}

export function presetOf(
  presets: readonly ExperimentPresetInfo[] | null,
  draft: ExperimentDraft,
): ExperimentPresetInfo | undefined {
  return presets?.find((p) => p.id === draft.presetId);
}

/**
 * How many items (problems x settings x samples) the form will run, as far
 * as the page can know: a preset's own problems, settings and samples are
 * the server's to count.
 */
export function planItems(draft: ExperimentDraft): ItemPlan {
  let available: number | null = null;
  switch (draft.datasetKind) {
    case "generator":
      available = valueOf(parseInteger(draft.generator.count, { min: 1, what: "count" })) ?? null;
      break;
    case "upload":
      available = draft.upload && !draft.upload.preview.error ? draft.upload.preview.rows : null;
      break;
    case "preset":
    case "path":
      available = null;
  }
  const offset = valueOf(parseInteger(draft.offset, { min: 0, empty: 0, what: "the offset" })) ?? 0;
  const limit = valueOf(parseInteger(draft.limit, { min: 1, empty: null, what: "the limit" }));
  const problems =
    available === null
      ? null
      : Math.max(0, Math.min(available - offset, limit ?? Number.POSITIVE_INFINITY));
  const problemsAtMost = problems === null ? (limit ?? null) : problems;

  const settings = usesPresetSettings(draft) ? null : draftSettings(draft).count;
  const samples =
    draft.samples.trim() === ""
      ? draft.datasetKind === "preset"
        ? null
        : 1
      : (valueOf(parseInteger(draft.samples, { min: 1, max: 1024, what: "samples" })) ?? null);

  const product = (n: number | null) =>
    n === null || settings === null || samples === null ? null : n * settings * samples;
  return {
    kind: draft.datasetKind,
    problems,
    problemsAtMost,
    settings,
    samples,
    items: product(problems),
    itemsAtMost: product(problemsAtMost),
  };
}

/** Every problem with the form, by field; empty when it can be sent. */
export function validateDraft(
  draft: ExperimentDraft,
  presets: readonly ExperimentPresetInfo[] | null,
): DraftProblems {
  const problems: DraftProblems = {};
  const check = (field: DraftField, parsed: Parsed<unknown>) => {
    if ("error" in parsed) problems[field] = parsed.error;
  };
  /** A problem the protocol's rules found, at its field unless the field's text did not parse. */
  const report = ({ field, message }: SettingProblem) => {
    problems[DRAFT_FIELD_OF[field as SettingField] ?? "items"] ??= message;
  };

  if (draft.name.length > 200) problems.name = "At most 200 characters.";
  switch (draft.datasetKind) {
    case "preset":
      if (!presetOf(presets, draft)) {
        problems.dataset = `This server has no preset "${draft.presetId}".`;
      }
      break;
    case "generator":
      check(
        "count",
        parseInteger(draft.generator.count, { min: 1, max: 100_000, what: "the count" }),
      );
      check("digits", parseInteger(draft.generator.digits, { min: 1, max: 12, what: "digits" }));
      check(
        "generatorSeed",
        parseInteger(draft.generator.seed, { min: -(2 ** 53 - 1), what: "a seed" }),
      );
      if (draft.generator.kinds.length === 0) problems.kinds = "Pick at least one kind of problem.";
      break;
    case "path":
      if (draft.path.trim() === "") problems.path = "Give the path of a JSONL file on the server.";
      else if (draft.path.length > 4096) problems.path = "At most 4096 characters.";
      break;
    case "upload": {
      if (!draft.upload) problems.upload = "Choose a JSONL file.";
      else if (draft.upload.preview.error) problems.upload = draft.upload.preview.error;
      else {
        const columns = columnProblem(draft.upload.preview, draft.columns);
        if (columns) problems.columns = columns;
      }
      break;
    }
  }
  if (draft.datasetKind === "path") {
    const { problem, answer, id } = draft.columns;
    const given = [problem, answer, id].some((c) => c.trim() !== "");
    if (given && (problem.trim() === "" || answer.trim() === "")) {
      problems.columns = "Map both the problem and the answer column, or neither.";
    }
  }

  check("offset", parseInteger(draft.offset, { min: 0, empty: 0, what: "the offset" }));
  check("limit", parseInteger(draft.limit, { min: 1, empty: null, what: "the limit" }));

  const settings = requestSettings(draft);
  if (settings) {
    const lists = {
      numWaits: parseCountList(draft.numWaits),
      maxThinkingTokens: parseCountList(draft.maxThinkingTokens),
      minThinkingTokens: parseCountList(draft.minThinkingTokens),
    };
    for (const [field, parsed] of Object.entries(lists)) check(field as DraftField, parsed);
    if (draft.waitStrings.filter((w) => w !== "").length === 0) {
      problems.waitStrings = "Pick at least one wait string.";
    }
    if (draft.datasetKind !== "preset") check("maxAnswerTokens", parseCount(draft.maxAnswerTokens));
    const count = draftSettings(draft).count;
    if (count > MAX_SETTINGS) {
      problems.items = `The sweep makes ${count} settings; at most ${MAX_SETTINGS} run in one experiment.`;
    } else {
      // The server checks every setting of the sweep as a run would be: so does the form.
      const problem = sweepProblem(sweepSettings(settings.budget, settings.sweep));
      if (problem) report(problem);
    }
  }
  if (draft.datasetKind !== "preset" && !draft.template.includes("{problem}")) {
    problems.template = "The template must contain {problem}, where each problem's text goes.";
  }

  check(
    "samples",
    parseInteger(draft.samples, {
      min: 1,
      max: 1024,
      empty: null,
      what: "the samples per problem",
    }),
  );
  const sampling = {
    temperature: parseDecimal(draft.temperature),
    topP: parseDecimal(draft.topP),
    seed: parseInteger(draft.seed, { min: -(2 ** 53 - 1), empty: null, what: "a seed" }),
  };
  for (const [field, parsed] of Object.entries(sampling)) check(field as DraftField, parsed);
  samplingProblems({
    temperature: valueOf(sampling.temperature) ?? undefined,
    top_p: valueOf(sampling.topP) ?? undefined,
  }).forEach(report);
  check(
    "concurrency",
    parseInteger(draft.concurrency, { min: 1, max: 256, empty: null, what: "concurrency" }),
  );

  const plan = planItems(draft);
  if (plan.problems === 0) {
    problems.offset = `The offset leaves no problems (the dataset has ${
      draft.datasetKind === "upload" ? draft.upload?.preview.rows : "fewer"
    }).`;
  }
  if (plan.items !== null && plan.items > MAX_ITEMS) {
    problems.items = `${plan.items.toLocaleString("en")} items: one experiment runs at most ${MAX_ITEMS.toLocaleString("en")}. Set a limit or sweep fewer values.`;
  }
  return problems;
}

/** The create request for a valid draft (call `validateDraft` first). */
export function buildCreateRequest(draft: ExperimentDraft): ExperimentCreate {
  const int = (text: string) => (text.trim() === "" ? undefined : Number(text.trim()));
  const request: ExperimentCreate = {};
  if (draft.name.trim() !== "") request.name = draft.name.trim();

  switch (draft.datasetKind) {
    case "preset":
      request.preset = draft.presetId;
      break;
    case "generator":
      request.dataset = {
        generator: {
          seed: Number(draft.generator.seed),
          count: Number(draft.generator.count),
          digits: Number(draft.generator.digits),
          kinds: [...draft.generator.kinds],
        },
      };
      break;
    case "path":
      request.dataset = { path: draft.path.trim(), ...columnsOf(draft.columns) };
      break;
    case "upload":
      request.dataset = {
        jsonl: draft.upload!.text,
        name: draft.upload!.name,
        ...columnsOf(draft.columns),
      };
      break;
  }

  const offset = int(draft.offset);
  if (offset) request.offset = offset;
  const limit = int(draft.limit);
  if (limit !== undefined) request.limit = limit;
  if (draft.backend !== "") request.backend = draft.backend;
  if (draft.model !== "") request.model = draft.model;

  if (draft.datasetKind !== "preset") {
    request.prompt = { mode: draft.promptMode, template: draft.template };
  }
  const settings = requestSettings(draft);
  if (settings) {
    const { budget, sweep } = settings;
    if (Object.keys(budget).length > 0) request.budget_forcing = budget;
    // An empty sweep still replaces a preset's settings: the form's one setting is what runs.
    if (Object.keys(sweep).length > 0) request.sweep = sweep;
    else if (draft.datasetKind === "preset") request.settings = [{}];
  }

  const samples = int(draft.samples);
  if (samples !== undefined) request.samples = samples;
  const sampling: NonNullable<ExperimentCreate["sampling"]> = {};
  if (draft.temperature.trim() !== "") sampling.temperature = Number(draft.temperature);
  if (draft.topP.trim() !== "") sampling.top_p = Number(draft.topP);
  const seed = int(draft.seed);
  if (seed !== undefined) sampling.seed = seed;
  if (Object.keys(sampling).length > 0) request.sampling = sampling;
  const concurrency = int(draft.concurrency);
  if (concurrency !== undefined) request.concurrency = concurrency;
  return request;
}

function columnsOf(columns: ColumnChoice): {
  columns?: { problem: string; answer: string; id?: string };
} {
  const problem = columns.problem.trim();
  const answer = columns.answer.trim();
  if (problem === "" || answer === "") return {};
  const id = columns.id.trim();
  return { columns: { problem, answer, ...(id === "" ? {} : { id }) } };
}

/** "20 problems × 3 settings × 4 samples = 240 items", with whatever is not known yet said plainly. */
export function itemSummary(plan: ItemPlan): string {
  const factor = (n: number | null, one: string, many: string, unknown: string) =>
    n === null ? unknown : `${formatCount(n)} ${n === 1 ? one : many}`;
  const problems =
    plan.problems !== null
      ? factor(plan.problems, "problem", "problems", "")
      : plan.problemsAtMost !== null
        ? `up to ${factor(plan.problemsAtMost, "problem", "problems", "")}`
        : plan.kind === "preset"
          ? "the preset's problems"
          : "every problem in the file";
  const settings = factor(plan.settings, "setting", "settings", "the preset's settings");
  const samples = factor(plan.samples, "sample", "samples", "the preset's samples");
  const total =
    plan.items !== null
      ? ` = ${formatCount(plan.items)} item${plan.items === 1 ? "" : "s"}`
      : plan.itemsAtMost !== null
        ? ` = at most ${formatCount(plan.itemsAtMost)} items`
        : "";
  return `${problems} × ${settings} × ${samples}${total}`;
}
