/**
 * A sweep as the protocol describes one (`Sweep`: values per `budget_forcing`
 * field), and the one rule for the settings it makes: the cartesian product
 * of its lists, each laid over the base settings, as the server builds an
 * experiment's settings. A value that makes a setting invalid refuses the
 * sweep with the reason; it is never adjusted to fit. The experiment form
 * checks its sweep this way, and the Compare tab's ladder is a sweep of one
 * field.
 */
import {
  budgetProblems,
  SweepSchema,
  type BudgetForcing,
  type SettingProblem,
  type Sweep,
} from "@thinkscope/protocol";

/** The fields in the order the product varies them (the last fastest): the schema's order. */
const SWEEP_FIELDS = Object.keys(SweepSchema.properties) as (keyof Sweep)[];

/** Every setting of the sweep: the base with one combination of the swept values laid over it. */
export function sweepSettings(base: BudgetForcing, sweep: Sweep): BudgetForcing[] {
  let product: BudgetForcing[] = [{}];
  for (const field of SWEEP_FIELDS) {
    const values = sweep[field];
    if (!values) continue;
    product = product.flatMap((varied) => values.map((value) => ({ ...varied, [field]: value })));
  }
  return product.map((varied) => ({ ...base, ...varied }));
}

/** The first problem of the first invalid setting (the server refuses the whole sweep for it). */
export function sweepProblem(settings: readonly BudgetForcing[]): SettingProblem | undefined {
  for (const setting of settings) {
    const [problem] = budgetProblems(setting);
    if (problem) return problem;
  }
  return undefined;
}
