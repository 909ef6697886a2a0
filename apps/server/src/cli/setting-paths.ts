/**
 * `thinkscope experiment --set KEY=VALUE` and `--sweep KEY=V1,V2` on any
 * `budget_forcing` field, nested ones by dotted path
 * (`eliminate.verifier=reference`, `early_exit.probe_every=32,64`). A value
 * is read as JSON when it is JSON (`3`, `true`, `["Wait","Hmm"]`), as text
 * otherwise. The protocol validates what comes out, so a bad value is refused
 * with the field named, as in any request.
 */
import { InvalidArgumentError } from "commander";
import { BudgetForcingSchema, type BudgetForcing } from "@thinkscope/protocol";

export const BUDGET_FIELDS = Object.keys(BudgetForcingSchema.properties);

/** A budget_forcing field by path, with the values a sweep gives it. */
export interface PathSweep {
  path: string[];
  values: unknown[];
}

export function parseSettingValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function splitPath(key: string, option: string): string[] {
  const path = key.split(".");
  if (!BUDGET_FIELDS.includes(path[0]!)) {
    throw new InvalidArgumentError(
      `${option}: "${path[0]}" is not a budget_forcing field; the fields are ${BUDGET_FIELDS.join(", ")}.`,
    );
  }
  if (path.some((part) => !/^[a-z_]+$/.test(part))) {
    throw new InvalidArgumentError(
      `${option}: "${key}" is not a budget_forcing field (a name, or a dotted path such as eliminate.attempts).`,
    );
  }
  return path;
}

/** `--set KEY=VALUE`, repeatable: the fields laid over every setting. */
export function collectSet(text: string, previous: BudgetForcing | undefined): BudgetForcing {
  const at = text.indexOf("=");
  if (at <= 0) throw new InvalidArgumentError(`--set: expected KEY=VALUE, got "${text}".`);
  const path = splitPath(text.slice(0, at).trim(), "--set");
  return withPath(previous ?? {}, path, parseSettingValue(text.slice(at + 1).trim()));
}

/** A copy of `budget` with the value at `path`, nested objects copied, not shared. */
export function withPath(budget: BudgetForcing, path: string[], value: unknown): BudgetForcing {
  const copy: Record<string, unknown> = { ...budget };
  let node = copy;
  for (const [index, key] of path.entries()) {
    if (index === path.length - 1) {
      node[key] = value;
    } else {
      const child = node[key];
      const next =
        typeof child === "object" && child !== null && !Array.isArray(child)
          ? { ...(child as Record<string, unknown>) }
          : {};
      node[key] = next;
      node = next;
    }
  }
  return copy as BudgetForcing;
}

/**
 * The settings a sweep over dotted paths makes: the cartesian product of
 * the lists (the last fastest), each the whole field it changes, so a
 * setting keeps what `--set` gave the rest of that field
 * (`--set eliminate.verifier=reference --sweep eliminate.attempts=0,1,2`).
 */
export function pathSweepSettings(
  sweeps: readonly PathSweep[],
  base: BudgetForcing,
): BudgetForcing[] {
  let product: { full: BudgetForcing; varied: BudgetForcing }[] = [{ full: base, varied: {} }];
  for (const { path, values } of sweeps) {
    product = product.flatMap(({ full, varied }) =>
      values.map((value) => {
        const next = withPath(full, path, value);
        const top = path[0] as keyof BudgetForcing;
        return { full: next, varied: { ...varied, [top]: next[top] } as BudgetForcing };
      }),
    );
  }
  return product.map(({ varied }) => varied);
}
