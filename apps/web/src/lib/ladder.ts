/**
 * The Compare tab's ladder: one prompt run at several values of one setting.
 * It is a sweep of one field (the protocol's `Sweep` with one list), laid
 * over the panel's request as an experiment lays its sweep over its base,
 * and refused, with the reason, when a value makes a rung invalid: a value
 * is never adjusted to make it run.
 */
import type { ContextRoom, RunSpec, Sweep } from "@thinkscope/protocol";
import { runProblems } from "./run-settings.ts";
import { sweepSettings } from "./sweep.ts";

/** A field the protocol sweeps over counts: what a ladder may vary. */
export type LadderParam = {
  [F in keyof Sweep]-?: NonNullable<Sweep[F]> extends number[] ? F : never;
}[keyof Sweep];

/** A sweep of one field: `param` over `values` (in the URL as `ladder=num_waits:0,1,2,4`). */
export interface LadderSettings {
  param: LadderParam;
  values: number[];
}

export const LADDER_PARAMS: { param: LadderParam; label: string; unit: string }[] = [
  { param: "num_waits", label: "Number of waits", unit: "waits" },
  { param: "max_thinking_tokens", label: "Thinking cap", unit: "tokens" },
  { param: "min_thinking_tokens", label: "Thinking minimum", unit: "tokens" },
  { param: "grace_tokens", label: "Grace past the cap", unit: "tokens" },
];

export const DEFAULT_LADDERS: Readonly<Record<LadderParam, readonly number[]>> = {
  num_waits: [0, 1, 2, 4],
  max_thinking_tokens: [256, 512, 1024, 2048],
  min_thinking_tokens: [0, 256, 512, 1024],
  grace_tokens: [0, 16, 32, 64],
};

export const DEFAULT_LADDER: LadderSettings = {
  param: "num_waits",
  values: [...DEFAULT_LADDERS.num_waits],
};

/**
 * A ladder's starting values that fit the model's context: the defaults
 * when they fit, else token ladders scaled down to powers of two under the
 * room the prompt and the answer leave (a 1,024-token model gets caps of
 * 64 to 512, not 256 to 2,048, half of which it would refuse).
 */
export function defaultLadderValues(
  param: LadderParam,
  room: ContextRoom | null,
  answerTokens: number,
): number[] {
  const defaults = [...DEFAULT_LADDERS[param]];
  if (param === "num_waits" || room === null || room.contextLength === undefined) return defaults;
  const thinkingRoom =
    room.contextLength - room.promptTokens - (room.closeTokens ?? 0) - answerTokens;
  const largest = Math.max(...defaults);
  if (largest <= thinkingRoom) return defaults;
  if (thinkingRoom < 8) return defaults; // nothing sensible fits: the usual problem is shown
  const top = 2 ** Math.floor(Math.log2(thinkingRoom));
  return param === "max_thinking_tokens"
    ? [top / 8, top / 4, top / 2, top]
    : [0, top / 8, top / 4, top / 2];
}

/** More runs than this at once would only queue on one backend and crowd the screen. */
export const MAX_RUNGS = 8;

export function isLadderParam(value: string): value is LadderParam {
  return value in DEFAULT_LADDERS;
}

/** "0, 1, 2, 4" -> [0, 1, 2, 4], or a message saying what is wrong. */
export function parseLadderValues(text: string): { values: number[] } | { error: string } {
  const parts = text
    .split(/[\s,;]+/)
    .map((part) => part.trim())
    .filter((part) => part !== "");
  if (parts.length === 0) return { error: "List at least one value, e.g. 0, 1, 2, 4." };
  const values: number[] = [];
  for (const part of parts) {
    const value = Number(part);
    if (!/^\d+$/.test(part) || !Number.isSafeInteger(value)) {
      return { error: `"${part}" is not a whole number of 0 or more.` };
    }
    if (!values.includes(value)) values.push(value);
  }
  if (values.length > MAX_RUNGS) return { error: `At most ${MAX_RUNGS} values at once.` };
  return { values };
}

/** One run of a ladder: its label and its request. */
export interface Rung {
  label: string;
  spec: RunSpec;
}

/**
 * The ladder's runs: the panel's request with each value laid over its
 * `budget_forcing`. The value is sent as given, even at its default, so the
 * server never fits it to the context.
 */
export function ladderRungs(base: RunSpec, ladder: LadderSettings): Rung[] {
  const sweep: Sweep = { [ladder.param]: ladder.values };
  return sweepSettings(base.budget_forcing ?? {}, sweep).map((budget_forcing, index) => ({
    label: rungLabel(ladder.param, ladder.values[index] ?? 0),
    spec: { ...base, budget_forcing },
  }));
}

/**
 * Why the ladder cannot run, or null: the first rung the server would
 * refuse (the protocol's rules, or, with the last preview's counts, a
 * budget that does not fit the model's context), with the reason.
 */
export function ladderProblem(rungs: readonly Rung[], room: ContextRoom | null): string | null {
  for (const { label, spec } of rungs) {
    const [problem] = runProblems(spec, room);
    if (problem) return `Rung "${label}": ${problem.message}`;
  }
  return null;
}

export function rungLabel(param: LadderParam, value: number): string {
  switch (param) {
    case "num_waits":
      return value === 1 ? "1 wait" : `${value} waits`;
    case "max_thinking_tokens":
      return `cap ${value}`;
    case "min_thinking_tokens":
      return `min ${value}`;
    case "grace_tokens":
      return `grace ${value}`;
  }
}
