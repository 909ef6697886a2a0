/**
 * Parsers for `thinkscope experiment`'s compound options: `--sweep
 * num_waits=0,1,2`, `--generate count=20,digits=3,seed=1`, `--columns
 * problem=question,answer=solution`. Each throws commander's
 * InvalidArgumentError with what was wrong, so the usage error names the option.
 */
import { InvalidArgumentError } from "commander";
import { GENERATED_KINDS, type GeneratedKind } from "@thinkscope/core";
import type { ColumnMappingInput, Sweep } from "@thinkscope/protocol";
import { SWEEP_FIELDS } from "@thinkscope/protocol";
import { BUDGET_FIELDS, parseSettingValue, splitPath, type PathSweep } from "./setting-paths.ts";

type SweepField = (typeof SWEEP_FIELDS)[number];

/** What `--sweep` collects: the protocol's sweep fields, and any other field by dotted path. */
export interface SweepOption {
  fields: Sweep;
  paths: PathSweep[];
}

/** `--sweep FIELD=V1,V2,...`, repeatable; each field once. */
export function collectSweep(value: string, previous: SweepOption | undefined): SweepOption {
  const option: SweepOption = {
    fields: { ...previous?.fields },
    paths: [...(previous?.paths ?? [])],
  };
  const [field, values] = splitPair(value, "--sweep", `${SWEEP_FIELDS.join(", ")}`);
  if (!(SWEEP_FIELDS as readonly string[]).includes(field)) {
    if (!BUDGET_FIELDS.includes(field.split(".")[0]!)) {
      throw new InvalidArgumentError(
        `Unknown sweep field "${field}": sweep one of ${SWEEP_FIELDS.join(", ")} (e.g. num_waits=0,1,2), or another budget_forcing field by dotted path (eliminate.attempts=0,1,2).`,
      );
    }
    // Any other budget_forcing field, nested ones by dotted path (eliminate.attempts=0,1,2).
    const path = splitPath(field, "--sweep");
    if (option.paths.some((p) => p.path.join(".") === field)) {
      throw new InvalidArgumentError(
        `${field} is swept twice; list all its values in one --sweep.`,
      );
    }
    const items = values.split(",").map((item) => parseSettingValue(item.trim()));
    option.paths.push({ path, values: items });
    return option;
  }
  const sweep = option.fields;
  const name = field as SweepField;
  if (sweep[name] !== undefined) {
    throw new InvalidArgumentError(`${name} is swept twice; list all its values in one --sweep.`);
  }
  const items = values.split(",").map((item) => item.trim());
  if (items.some((item) => item === "")) {
    throw new InvalidArgumentError(`--sweep ${name}: empty value in "${values}".`);
  }
  if (name === "model") {
    sweep.model = items;
  } else if (name === "wait_string") {
    // `Wait|Hmm` is one setting that rotates both strings.
    sweep.wait_string = items.map((item) => (item.includes("|") ? item.split("|") : item));
  } else if (name === "suppress") {
    // `none,Wait|Hmm`: no suppression against both words banned.
    sweep.suppress = items.map((item) => (item === "none" ? [] : item.split("|")));
  } else {
    sweep[name] = items.map((item) => {
      if (!/^\d+$/.test(item) || !Number.isSafeInteger(Number(item))) {
        throw new InvalidArgumentError(
          `--sweep ${name}: "${item}" is not a whole number of tokens (0 or more).`,
        );
      }
      return Number(item);
    });
  }
  return option;
}

export interface GenerateOptions {
  seed: number;
  count: number;
  digits: number;
  kinds?: GeneratedKind[];
}

/** `--generate count=20,digits=3,seed=1[,kinds=addition+multiplication]`; missing keys take these defaults. */
export function parseGenerate(value: string): GenerateOptions {
  const options: GenerateOptions = { count: 20, digits: 3, seed: 1 };
  for (const part of value.split(",")) {
    if (part.trim() === "") continue;
    const [key, raw] = splitPair(part, "--generate", "count, digits, seed, kinds");
    if (key === "kinds") {
      const kinds = raw.split("+").map((kind) => kind.trim());
      const unknown = kinds.filter(
        (kind) => !(GENERATED_KINDS as readonly string[]).includes(kind),
      );
      if (unknown.length > 0) {
        throw new InvalidArgumentError(
          `--generate kinds: unknown ${unknown.join(", ")}; use ${GENERATED_KINDS.join(", ")} joined with +.`,
        );
      }
      options.kinds = kinds as GeneratedKind[];
    } else if (key === "count" || key === "digits" || key === "seed") {
      if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
        throw new InvalidArgumentError(`--generate ${key}: "${raw}" is not a whole number.`);
      }
      options[key] = Number(raw);
    } else {
      throw new InvalidArgumentError(
        `--generate: unknown key "${key}"; use count, digits, seed, kinds.`,
      );
    }
  }
  return options;
}

/** `--columns problem=COLUMN,answer=COLUMN[,id=COLUMN]`. */
export function parseColumns(value: string): ColumnMappingInput {
  const columns: Partial<ColumnMappingInput> = {};
  for (const part of value.split(",")) {
    const [key, column] = splitPair(part, "--columns", "problem, answer, id");
    if (key !== "problem" && key !== "answer" && key !== "id") {
      throw new InvalidArgumentError(`--columns: unknown key "${key}"; use problem, answer, id.`);
    }
    columns[key] = column;
  }
  if (!columns.problem || !columns.answer) {
    throw new InvalidArgumentError("--columns needs problem=COLUMN and answer=COLUMN.");
  }
  return columns as ColumnMappingInput;
}

function splitPair(text: string, option: string, keys: string): [string, string] {
  const at = text.indexOf("=");
  if (at <= 0 || at === text.length - 1) {
    throw new InvalidArgumentError(`${option}: expected KEY=VALUE (keys: ${keys}), got "${text}".`);
  }
  return [text.slice(0, at).trim(), text.slice(at + 1).trim()];
}
