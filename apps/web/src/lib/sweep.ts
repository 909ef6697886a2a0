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
  sweepVariations,
  type BudgetForcing,
  type SettingProblem,
  type Sweep,
} from "@thinkscope/protocol";

/** Every setting of the sweep: the base with one combination of the swept values laid over it. */
export function sweepSettings(base: BudgetForcing, sweep: Sweep): BudgetForcing[] {
  return sweepVariations(sweep).map((varied) => ({ ...base, ...varied }));
}

/** The first problem of the first invalid setting (the server refuses the whole sweep for it). */
export function sweepProblem(settings: readonly BudgetForcing[]): SettingProblem | undefined {
  for (const setting of settings) {
    const [problem] = budgetProblems(setting);
    if (problem) return problem;
  }
  return undefined;
}
