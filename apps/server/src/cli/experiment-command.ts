/**
 * `thinkscope experiment`: runs a whole experiment in this process (the
 * experiment and every run saved in the same database as the server's), with
 * a progress bar on stderr, then prints a table or, with --json, one JSON
 * object (the `results.json` document; its `settings` array is a contract).
 * Ctrl-C cancels it; `--resume ID` continues it later.
 */
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { basename, resolve } from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import pc from "picocolors";
import { ThinkscopeError } from "@thinkscope/core";
import {
  sweepVariations,
  type BudgetForcing,
  type ExperimentCreate,
  type ExperimentStatus,
} from "@thinkscope/protocol";
import { ConfigError, loadConfig } from "../config/config.ts";
import { isProtectedFile } from "../services/experiments/dataset-loader.ts";
import { ExperimentService } from "../services/experiments/experiment-service.ts";
import { findPreset, PRESETS, REPO_ROOT } from "../services/experiments/presets.ts";
import { ExperimentStore } from "../store/experiment-store.ts";
import {
  collectSweep,
  parseColumns,
  parseGenerate,
  type SweepOption,
} from "./experiment-options.ts";
import { collectSet, pathSweepSettings } from "./setting-paths.ts";
import { progressBar, resultsTable } from "./experiment-report.ts";
import { openLocalServices, type LocalServices } from "./local-services.ts";
import { addBudgetOptions, budgetSettingsFrom, type BudgetOptions } from "./run-options.ts";

interface ExperimentOptions extends BudgetOptions {
  dataset?: string;
  columns?: string;
  generate?: string;
  preset?: string;
  limit?: number;
  offset?: number;
  sweep?: SweepOption;
  set?: BudgetForcing;
  vote?: "majority" | "confidence";
  samples?: number;
  concurrency?: number;
  template?: string;
  raw?: boolean;
  name?: string;
  resume?: string;
  json?: boolean;
}

function positive(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError("Expected a whole number, 1 or more.");
  }
  return Number(value);
}

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError("Expected a whole number (0 or more).");
  }
  return Number(value);
}

export function registerExperimentCommand(program: Command): void {
  const command = program
    .command("experiment")
    .description(
      "run a benchmark at several budget-forcing settings and report accuracy, majority vote, pass@k and the s1 metrics",
    )
    .option("--dataset <file>", "JSONL problems: AIME, MATH-500 and GSM8K shapes are recognised")
    .option("--columns <mapping>", "other files: problem=COLUMN,answer=COLUMN[,id=COLUMN]")
    .option(
      "--generate <spec>",
      "built-in arithmetic problems instead of a file: count=20,digits=3,seed=1[,kinds=addition+multiplication]",
    )
    .option("--preset <name>", `a built-in experiment: ${PRESETS.map((p) => p.id).join(", ")}`)
    .option("--limit <n>", "at most this many problems", positive)
    .option("--offset <n>", "skip this many problems first", wholeNumber)
    .option(
      "--sweep <field=values>",
      "values to sweep, e.g. num_waits=0,1,2, wait_string=Wait,Hmm, model=tiny-reasoner,tiny-reasoner-rl or eliminate.attempts=0,1,2 (repeat for a grid)",
      collectSweep,
    )
    .option(
      "--set <field=value>",
      "a budget_forcing field for every setting, nested ones by dotted path: eliminate.verifier=reference, grace_tokens=32 (repeatable)",
      collectSet,
    )
    .option(
      "--vote <method>",
      "also vote by confidence (DeepConf; needs token log-probabilities): confidence",
      (value: string) => {
        if (value !== "majority" && value !== "confidence")
          throw new InvalidArgumentError('--vote: "majority" or "confidence".');
        return value;
      },
    )
    .option("--samples <n>", "samples per problem and setting (majority vote, pass@k)", positive)
    .option("--concurrency <n>", "runs in flight at once (default: from the backend)", positive)
    .option(
      "--template <text>",
      "the prompt, with {problem} where the problem goes (default asks for \\boxed{})",
    )
    .option("--raw", "the template is raw text sent as is, not a user message")
    .option("--name <name>", "a name for the experiment")
    .option("--resume <id>", "continue a cancelled or interrupted experiment")
    .option("--json", "print one JSON object with the results instead of a table");
  addBudgetOptions(command).action(async (options: ExperimentOptions) => {
    process.exitCode = await experimentCommand(options);
  });
}

async function experimentCommand(options: ExperimentOptions): Promise<number> {
  // Everything a user can get wrong is checked before a model is loaded.
  let services: LocalServices;
  let experiments: ExperimentService;
  let id: string;
  try {
    const request = options.resume === undefined ? requestFrom(options) : undefined;
    const presetModels = request?.preset ? presetModelOverride(request.preset, options) : undefined;
    const config = loadConfig({
      overrides: {
        ...(options.backend ? { backends: [options.backend] } : {}),
        ...(presetModels ? { backends: presetModels.map((path) => `embedded:${path}`) } : {}),
        ...(options.model ? { model: options.model } : {}),
      },
    });
    services = await openLocalServices(config);
    experiments = new ExperimentService({
      runs: services.runService,
      store: new ExperimentStore(services.store.db),
      backends: services.backends,
      log: services.log,
      // The CLI reads the dataset itself and sends its text, so no server path is read.
      datasets: { roots: [], cwd: process.cwd() },
    });
    experiments.recoverInterrupted();
    try {
      if (request) {
        request.backend = services.backends.default.id;
        id = (await experiments.create(request)).id;
      } else {
        id = resumeChecked(experiments, services, options.resume!);
      }
    } catch (error) {
      await services.close();
      throw error;
    }
  } catch (error) {
    if (
      error instanceof InvalidArgumentError ||
      error instanceof ConfigError ||
      (ThinkscopeError.isInstance(error) && error.status < 500)
    ) {
      console.error(`thinkscope experiment: ${error.message}`);
      return 2;
    }
    throw error;
  }

  const bar = progressBar();
  const stopFollowing = experiments.subscribe(id, (message) => bar.update(message));
  let interrupted = false;
  const onInterrupt = () => {
    interrupted = true;
    void experiments.cancel(id).catch(() => {});
  };
  process.once("SIGINT", onInterrupt);
  let status: ExperimentStatus;
  try {
    status = await experiments.settled(id);
  } finally {
    process.off("SIGINT", onInterrupt);
    stopFollowing();
    bar.stop();
  }
  try {
    const doc = experiments.resultsDocument(id);
    if (options.json) process.stdout.write(JSON.stringify(doc) + "\n");
    else process.stdout.write(resultsTable(doc));
    if (status === "failed" && doc.progress.failed > 0) {
      const error = experiments.detail(id).error;
      console.error(
        pc.red(
          `thinkscope experiment: ${doc.progress.failed} runs failed${error ? ` (last: ${error.message})` : ""}.`,
        ),
      );
    }
    if (status !== "completed") {
      console.error(pc.dim(`Resume with: thinkscope experiment --resume ${id}`));
    } else if (!options.json) {
      console.error(pc.dim(`Saved as ${id}.`));
    }
  } finally {
    await services.close();
  }
  if (interrupted || status === "cancelled" || status === "interrupted") return 130;
  return status === "completed" ? 0 : 1;
}

/** The create request the options describe; throws InvalidArgumentError for bad combinations. */
export function requestFrom(options: ExperimentOptions): ExperimentCreate {
  const sources = [options.dataset, options.generate].filter((s) => s !== undefined);
  if (sources.length > 1) throw new InvalidArgumentError("Give --dataset or --generate, not both.");
  if (sources.length === 0 && options.preset === undefined) {
    throw new InvalidArgumentError(
      "Give the problems: --dataset FILE, --generate count=20,digits=3,seed=1, or --preset NAME.",
    );
  }
  if (options.columns !== undefined && options.dataset === undefined) {
    throw new InvalidArgumentError("--columns goes with --dataset.");
  }
  if (options.preset !== undefined && !findPreset(options.preset)) {
    throw new InvalidArgumentError(
      `Unknown preset "${options.preset}". Presets: ${PRESETS.map((p) => p.id).join(", ")}.`,
    );
  }
  const { budgetForcing, sampling } = budgetSettingsFrom(options);
  // A preset keeps its own settings unless an option names one.
  const fromPreset = options.preset !== undefined;
  if (fromPreset && options.format === "think-tags") delete budgetForcing.format;

  const request: ExperimentCreate = {};
  if (options.name !== undefined) request.name = options.name;
  if (options.preset !== undefined) request.preset = options.preset;
  if (options.dataset !== undefined) {
    const file = resolve(options.dataset);
    if (isProtectedFile(file) || isProtectedFile(realpathOr(file))) {
      // Its text would become prompts, stored in runs and exports.
      throw new InvalidArgumentError(
        `--dataset ${file} is a configuration, environment or database file, never read as a dataset.`,
      );
    }
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new InvalidArgumentError(
        `Cannot read --dataset ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}.`,
      );
    }
    request.dataset = { jsonl: text, name: basename(file) };
    if (options.columns !== undefined) request.dataset.columns = parseColumns(options.columns);
  }
  if (options.generate !== undefined)
    request.dataset = { generator: parseGenerate(options.generate) };
  if (options.limit !== undefined) request.limit = options.limit;
  if (options.offset !== undefined) request.offset = options.offset;
  Object.assign(budgetForcing, options.set);
  if (Object.keys(budgetForcing).length > 0) request.budget_forcing = budgetForcing;
  if (options.sweep !== undefined) {
    const { fields, paths } = options.sweep;
    if (paths.length === 0) request.sweep = fields;
    else {
      // Nested fields are not the protocol's sweep: the grid goes as explicit settings.
      const byFields = Object.keys(fields).length > 0 ? sweepVariations(fields) : [{}];
      request.settings = byFields.flatMap((varied) =>
        pathSweepSettings(paths, { ...budgetForcing, ...varied }).map((nested) => ({
          ...varied,
          ...nested,
        })),
      );
    }
  }
  if (options.vote === "confidence") request.vote = { method: "confidence" };
  if (options.samples !== undefined) request.samples = options.samples;
  if (Object.keys(sampling).length > 0) request.sampling = sampling;
  if (options.concurrency !== undefined) request.concurrency = options.concurrency;
  if (options.template !== undefined || options.raw) {
    request.prompt = { ...(options.raw ? { mode: "raw" as const } : {}) };
    if (options.template !== undefined) request.prompt.template = options.template;
  }
  return request;
}

/**
 * A preset made for bundled models runs on them (one embedded backend each),
 * unless --backend or --model says otherwise. Refused when one of those
 * models has not been built.
 */
function presetModelOverride(presetId: string, options: ExperimentOptions): string[] | undefined {
  const preset = findPreset(presetId);
  if (!preset?.modelFiles || options.backend || options.model) return undefined;
  return preset.modelFiles.map((file) => {
    const path = resolve(REPO_ROOT, file);
    if (!existsSync(path)) {
      throw new InvalidArgumentError(
        `The ${preset.id} preset runs on ${file}, which is not built yet ` +
          "(see tools/tiny-reasoner); or pass --backend and --model to run it on another model.",
      );
    }
    return path;
  });
}

function resumeChecked(
  experiments: ExperimentService,
  services: LocalServices,
  id: string,
): string {
  const detail = experiments.detail(id);
  const used = new Set([detail.backend, ...detail.spec.settings.flatMap((s) => s.backend ?? [])]);
  for (const backend of used) {
    if (!services.backends.list().some((entry) => entry.id === backend)) {
      throw new InvalidArgumentError(
        `Experiment ${id} ran on the backend "${backend}", which is not configured here; ` +
          "pass the same --backend (and --model) it was started with.",
      );
    }
  }
  return experiments.resume(id).id;
}

function realpathOr(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}
