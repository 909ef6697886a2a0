/**
 * From a create request (and its preset) to everything an experiment stores:
 * the problems (a snapshot of the slice), the backend, and the resolved spec.
 * Every mistake is a 400 with a clear message, raised before anything is
 * stored or any model loads.
 */
import { resolve } from "node:path";
import { InvalidRequestError, ThinkscopeError, type Problem } from "@thinkscope/core";
import {
  VOTE_DEFAULTS,
  type BudgetForcing,
  type ExperimentCreate,
  type ExperimentDatasetInfo,
  type ExperimentSetting,
  type ExperimentSpec,
  type Sampling,
} from "@thinkscope/protocol";
import type { BackendEntry, BackendRegistry } from "../../backends/registry.ts";
import { loadDataset, readDatasetFile, type DatasetLoaderOptions } from "./dataset-loader.ts";
import { findPreset, PRESETS, REPO_ROOT, type ExperimentPreset } from "./presets.ts";
import { buildSettings } from "./settings-sweep.ts";

export const DEFAULT_TEMPLATE = "{problem}\n\nPut your final answer within \\boxed{}.";
/** Sampling for several samples when none is given: Yue et al.'s pass@k setting. */
export const DEFAULT_MULTI_SAMPLE_SAMPLING = { temperature: 0.6, top_p: 0.95 } as const;
/** More items than this would make one experiment's table unwieldy. */
export const MAX_ITEMS = 500_000;
const SERVER_BACKEND_CONCURRENCY = 8;

export interface ExperimentPlan {
  name: string;
  preset: string | null;
  entry: BackendEntry;
  model: string | undefined;
  dataset: ExperimentDatasetInfo;
  problems: Problem[];
  spec: ExperimentSpec;
}

export interface PlanContext {
  backends: BackendRegistry;
  datasets: DatasetLoaderOptions;
  /** The operator's budget caps, checked on every setting before anything is stored. */
  checkBudgets?: (budgetForcing: BudgetForcing) => unknown;
}

export async function planExperiment(
  input: ExperimentCreate,
  context: PlanContext,
): Promise<ExperimentPlan> {
  const preset = input.preset === undefined ? undefined : presetOf(input.preset);
  const request = preset ? withPreset(preset, input) : input;

  const template = request.prompt?.template ?? DEFAULT_TEMPLATE;
  if (!template.includes("{problem}")) {
    throw new InvalidRequestError(
      "invalid_template",
      "The prompt template must contain {problem}, where each problem's text goes.",
    );
  }
  const samples = request.samples ?? 1;
  const sampling = samplingOf(request.sampling ?? {}, samples);
  const settings = buildSettings(
    request.budget_forcing ?? {},
    request.settings ?? [],
    request.sweep ?? {},
    sampling,
    context.checkBudgets,
  );
  const baseEntry = backendOf(request.backend, preset, context.backends);
  const swept = await withModelBackends(settings, preset, context.backends);
  const entry = swept ?? baseEntry;

  const loaded = request.dataset
    ? await loadDataset(request.dataset, context.datasets)
    : preset
      ? await readDatasetFile(resolve(REPO_ROOT, preset.datasetFile), undefined, "preset")
      : undefined;
  if (!loaded) {
    throw new InvalidRequestError(
      "dataset_required",
      "Give a dataset: { path }, { jsonl } or { generator: { seed, count, digits } }, or a preset.",
    );
  }
  const offset = request.offset ?? 0;
  const problems = loaded.problems.slice(
    offset,
    request.limit ? offset + request.limit : undefined,
  );
  if (problems.length === 0) {
    throw new InvalidRequestError(
      "empty_slice",
      `The dataset has ${loaded.problems.length} problems; offset ${offset} leaves none.`,
    );
  }
  const items = problems.length * settings.length * samples;
  if (items > MAX_ITEMS) {
    throw new InvalidRequestError(
      "too_many_items",
      `${problems.length} problems x ${settings.length} settings x ${samples} samples is ${items} runs; ` +
        `one experiment runs at most ${MAX_ITEMS}. Use a limit or fewer settings.`,
    );
  }

  return {
    name:
      request.name?.trim() ||
      `${loaded.info.name} · ${settings.length} setting${settings.length === 1 ? "" : "s"}`,
    preset: preset?.id ?? null,
    entry,
    // A model sweep names each setting's model; the experiment itself then has none.
    model: swept ? undefined : request.model,
    dataset: { ...loaded.info, offset, problems: problems.length },
    problems,
    spec: {
      prompt: { mode: request.prompt?.mode ?? "chat", template },
      settings,
      samples,
      sampling,
      concurrency: request.concurrency ?? defaultConcurrency(entry),
      ...voteOf(request.vote, entry),
    },
  };
}

/** A confidence vote, checked against the backend before anything is stored. */
function voteOf(vote: ExperimentCreate["vote"], entry: BackendEntry): Pick<ExperimentSpec, "vote"> {
  if (!vote || vote.method === "majority") return {};
  if (entry.backend.capabilities.tokenLogprobs !== true) {
    throw new InvalidRequestError(
      "unsupported_by_backend",
      `vote: a confidence vote needs each token's log-probability, which the ${entry.backend.kind} backend does not report; vote by majority there.`,
    );
  }
  return {
    vote: {
      method: "confidence",
      window: vote.window ?? VOTE_DEFAULTS.window,
      keep: vote.keep ?? VOTE_DEFAULTS.keep,
    },
  };
}

/** The text sent for one problem (a user message in chat mode, the exact text in raw mode). */
export function renderProblemPrompt(template: string, problem: Problem): string {
  return template.replaceAll("{problem}", problem.problem);
}

/**
 * Items at once when the request names no bound: as many as the embedded
 * backend has sequences (more would only wait in its queue), 8 for a server.
 */
export function defaultConcurrency(entry: BackendEntry): number {
  const { backend } = entry;
  if (backend.kind === "embedded") {
    const info = (backend as { info?: { sequences?: number } }).info;
    return info?.sequences ?? 2;
  }
  return SERVER_BACKEND_CONCURRENCY;
}

function presetOf(id: string): ExperimentPreset {
  const preset = findPreset(id);
  if (!preset) {
    throw new InvalidRequestError(
      "unknown_preset",
      `Unknown preset "${id}". Presets: ${PRESETS.map((p) => p.id).join(", ")}.`,
    );
  }
  return preset;
}

/**
 * The preset's request with the caller's fields over it. `budget_forcing`,
 * `sampling` and `prompt` merge field by field; giving `settings` or `sweep`
 * replaces the preset's settings.
 */
function withPreset(preset: ExperimentPreset, input: ExperimentCreate): ExperimentCreate {
  const base = preset.request;
  const merged: ExperimentCreate = { ...base };
  for (const [key, value] of Object.entries(input)) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  merged.budget_forcing = { ...base.budget_forcing, ...input.budget_forcing };
  merged.sampling = { ...base.sampling, ...input.sampling };
  merged.prompt = { ...base.prompt, ...input.prompt };
  if (input.settings !== undefined || input.sweep !== undefined) {
    merged.settings = input.settings;
    merged.sweep = input.sweep;
  }
  return merged;
}

function samplingOf(input: Sampling, samples: number): ExperimentSpec["sampling"] {
  const sampling: ExperimentSpec["sampling"] = { ...input, seed: input.seed ?? 0 };
  if (samples > 1 && input.temperature === undefined) {
    sampling.temperature = DEFAULT_MULTI_SAMPLE_SAMPLING.temperature;
    sampling.top_p ??= DEFAULT_MULTI_SAMPLE_SAMPLING.top_p;
  }
  if (!Number.isSafeInteger(sampling.seed + samples)) {
    throw new InvalidRequestError("invalid_sampling", "seed + samples must be a safe integer.");
  }
  return sampling;
}

/**
 * Fills in the backend of every setting that names a model (a model sweep):
 * the configured backend that lists it. Returns the first setting's backend,
 * or undefined when no setting names a model. An unknown model is a 400
 * naming the models served, before anything is stored.
 */
async function withModelBackends(
  settings: ExperimentSetting[],
  preset: ExperimentPreset | undefined,
  backends: BackendRegistry,
): Promise<BackendEntry | undefined> {
  const byModel = new Map<string, BackendEntry>();
  for (const setting of settings) {
    if (setting.model === undefined) continue;
    let entry = byModel.get(setting.model);
    if (!entry) {
      entry = await backendServing(setting.model, preset, backends);
      byModel.set(setting.model, entry);
    }
    setting.backend = entry.id;
  }
  const first = settings.find((setting) => setting.model !== undefined);
  return first ? byModel.get(first.model!) : undefined;
}

async function backendServing(
  model: string,
  preset: ExperimentPreset | undefined,
  backends: BackendRegistry,
): Promise<BackendEntry> {
  const hint = preset?.modelFiles
    ? ` The ${preset.id} preset needs ${preset.modelFiles.join(" and ")}: start the server with ` +
      `THINKSCOPE_BACKEND=${preset.modelFiles.map((file) => `embedded:${file}`).join(",")}.`
    : "";
  let resolved;
  try {
    resolved = await backends.resolveModel(model);
  } catch (error) {
    if (ThinkscopeError.isInstance(error) && error.code === "model_not_found") {
      throw new InvalidRequestError(
        "model_not_found",
        `Sweep over models: ${error.message}${hint}`,
      );
    }
    throw error;
  }
  if (resolved.aliased) {
    // A backend id or `default` names no model: the settings would not say what ran.
    throw new InvalidRequestError(
      "invalid_sweep",
      `Sweep over models: "${model}" names a backend, not a model; name models as GET /v1/models lists them.`,
    );
  }
  return resolved.entry;
}

function backendOf(
  id: string | undefined,
  preset: ExperimentPreset | undefined,
  backends: BackendRegistry,
): BackendEntry {
  if (id !== undefined && id !== "") return backends.get(id);
  const modelFile = preset?.modelFiles?.[0];
  if (!preset || !modelFile) return backends.default;
  const wanted = resolve(REPO_ROOT, modelFile);
  const serving = backends.list().find((entry) => {
    const spec = (entry.backend as { modelSpec?: string }).modelSpec;
    return entry.backend.kind === "embedded" && spec !== undefined && resolve(spec) === wanted;
  });
  if (!serving) {
    throw new InvalidRequestError(
      "preset_backend_missing",
      `The ${preset.id} preset runs on ${modelFile} with the embedded backend, and no configured ` +
        "backend serves it: start the server with THINKSCOPE_BACKEND=embedded and no THINKSCOPE_MODEL, " +
        "or name a backend in the request.",
    );
  }
  return serving;
}
