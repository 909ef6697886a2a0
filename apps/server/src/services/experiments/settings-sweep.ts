/**
 * The list of settings an experiment runs: explicit settings first, then the
 * cartesian product of the sweep, each laid over the shared
 * `budget_forcing`. A sweep over models repeats the whole list once per
 * model (each setting names its model; the plan finds the backend). Every setting is validated as a run would be, so a bad
 * one is refused before anything is stored.
 */
import { InvalidRequestError, resolveSettings, type ThinkscopeError } from "@thinkscope/core";
import {
  SWEEP_FIELDS,
  sweepModels,
  sweepSize,
  sweepVariations,
  type BudgetForcing,
  type ExperimentSetting,
  type Sampling,
  type Sweep,
} from "@thinkscope/protocol";
import { toCoreSampling } from "../run-service.ts";

export const MAX_SETTINGS = 256;

export function buildSettings(
  base: BudgetForcing,
  explicit: readonly BudgetForcing[],
  sweep: Sweep,
  sampling: Sampling,
  /** The operator's limits (budget caps); throws a ThinkscopeError for a setting above them. */
  checkBudgets?: (budgetForcing: BudgetForcing) => unknown,
): ExperimentSetting[] {
  const swept = SWEEP_FIELDS.some((field) => field !== "model" && sweep[field] !== undefined);
  const models = sweepModels(sweep);
  const perModel = explicit.length + (swept ? sweepSize({ ...sweep, model: undefined }) : 0);
  const count = Math.max(perModel, 1) * models.length;
  if (count > MAX_SETTINGS) {
    throw new InvalidRequestError(
      "too_many_settings",
      `The settings and the sweep make more than ${MAX_SETTINGS} settings; at most ${MAX_SETTINGS} run in one experiment.`,
    );
  }
  const varied = [...explicit, ...(swept ? sweepVariations(sweep) : [])];
  if (varied.length === 0) varied.push({});

  const settings: ExperimentSetting[] = [];
  const seen = new Map<string, number>();
  for (const model of models) {
    varied.forEach((fields) => {
      const budgetForcing = { ...base, ...fields };
      const key = canonical({ model: model ?? null, budgetForcing });
      const label = labelOf(fields, model);
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        throw new InvalidRequestError(
          "duplicate_setting",
          `Setting ${settings.length + 1} (${label}) repeats setting ${earlier + 1}; list each setting once.`,
        );
      }
      try {
        resolveSettings(budgetForcing, toCoreSampling(sampling));
        checkBudgets?.(budgetForcing);
      } catch (error) {
        const { code, message } = error as ThinkscopeError;
        throw new InvalidRequestError(
          code,
          `Setting ${settings.length + 1} (${label}): ${message}`,
        );
      }
      seen.set(key, settings.length);
      settings.push({
        index: settings.length,
        label,
        varied: fields,
        budget_forcing: budgetForcing,
        ...(model !== undefined ? { model } : {}),
      });
    });
  }
  return settings;
}

/** `model=tiny-reasoner num_waits=2 max_thinking_tokens=512`; `base` for a setting that varies nothing. */
export function labelOf(fields: BudgetForcing, model?: string): string {
  const parts = Object.entries(fields).map(([key, value]) => {
    const shown = Array.isArray(value)
      ? value.join("|")
      : typeof value === "object"
        ? JSON.stringify(value)
        : String(value);
    return `${key}=${shown}`;
  });
  if (model !== undefined) parts.unshift(`model=${model}`);
  return parts.length > 0 ? parts.join(" ") : "base";
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}
