import type { PlaygroundSettings } from "./run-settings.ts";

/** The setting a compare ladder varies, by its API name. */
export type LadderParam = "num_waits" | "max_thinking_tokens" | "min_thinking_tokens";

export interface LadderSettings {
  param: LadderParam;
  values: number[];
}

export const LADDER_PARAMS: { param: LadderParam; label: string; unit: string }[] = [
  { param: "num_waits", label: "Number of waits", unit: "waits" },
  { param: "max_thinking_tokens", label: "Thinking cap", unit: "tokens" },
  { param: "min_thinking_tokens", label: "Thinking minimum", unit: "tokens" },
];

export const DEFAULT_LADDERS: Readonly<Record<LadderParam, readonly number[]>> = {
  num_waits: [0, 1, 2, 4],
  max_thinking_tokens: [256, 512, 1024, 2048],
  min_thinking_tokens: [0, 256, 512, 1024],
};

export const DEFAULT_LADDER: LadderSettings = {
  param: "num_waits",
  values: [...DEFAULT_LADDERS.num_waits],
};

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

/**
 * The settings of each rung: the base settings with the ladder's parameter
 * set. The other bound moves with it where it would otherwise make the rung
 * invalid (a cap below the minimum lowers the minimum, and the reverse), so
 * every rung runs.
 */
export function ladderRungs(
  base: PlaygroundSettings,
  ladder: LadderSettings,
): PlaygroundSettings[] {
  return ladder.values.map((value) => {
    switch (ladder.param) {
      case "num_waits":
        return { ...base, numWaits: value };
      case "max_thinking_tokens":
        return {
          ...base,
          maxThinkingTokens: value,
          minThinkingTokens: Math.min(base.minThinkingTokens, value),
        };
      case "min_thinking_tokens":
        return {
          ...base,
          minThinkingTokens: value,
          maxThinkingTokens: Math.max(base.maxThinkingTokens, value),
        };
    }
  });
}

export function rungLabel(param: LadderParam, value: number): string {
  switch (param) {
    case "num_waits":
      return value === 1 ? "1 wait" : `${value} waits`;
    case "max_thinking_tokens":
      return `cap ${value}`;
    case "min_thinking_tokens":
      return `min ${value}`;
  }
}
