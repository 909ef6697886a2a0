import { samplingProblems } from "@thinkscope/protocol";
import {
  DEFAULT_LADDER,
  DEFAULT_LADDERS,
  isLadderParam,
  parseLadderValues,
  type LadderSettings,
} from "./ladder.ts";
import { DEFAULT_SETTINGS, type FormatChoice, type PlaygroundSettings } from "./run-settings.ts";

/**
 * Settings <-> query string, so a link reproduces a setup. Parameters use the
 * API's own names (`max_thinking_tokens=512&num_waits=2`), which makes a link
 * readable and matches what a script would send. Only values that differ from
 * the defaults are written, so links stay short.
 */

type CountKey = "maxThinkingTokens" | "minThinkingTokens" | "numWaits" | "maxAnswerTokens";
const COUNT_PARAMS: [CountKey, string][] = [
  ["maxThinkingTokens", "max_thinking_tokens"],
  ["minThinkingTokens", "min_thinking_tokens"],
  ["numWaits", "num_waits"],
  ["maxAnswerTokens", "max_answer_tokens"],
];
type TextKey =
  | "prompt"
  | "backend"
  | "model"
  | "customStart"
  | "customEnd"
  | "customForcedEnd"
  | "finalAnswerPrefix";
const TEXT_PARAMS: [TextKey, string][] = [
  ["prompt", "prompt"],
  ["backend", "backend"],
  ["model", "model"],
  ["customStart", "start"],
  ["customEnd", "end"],
  ["customForcedEnd", "forced_end"],
  ["finalAnswerPrefix", "final_answer_prefix"],
];
const FORMATS: readonly FormatChoice[] = ["think-tags", "s1", "custom"];

export function encodeSettings(
  settings: PlaygroundSettings,
  ladder: LadderSettings = DEFAULT_LADDER,
): URLSearchParams {
  const params = new URLSearchParams();
  const d = DEFAULT_SETTINGS;
  for (const [key, name] of TEXT_PARAMS) {
    if (settings[key] !== d[key]) params.set(name, settings[key]);
  }
  if (settings.mode !== d.mode) params.set("mode", settings.mode);
  if (settings.format !== d.format) params.set("format", settings.format);
  for (const [key, name] of COUNT_PARAMS) {
    if (settings[key] !== d[key]) params.set(name, String(settings[key]));
  }
  if (settings.waitStrings.join("\u0000") !== d.waitStrings.join("\u0000")) {
    for (const wait of settings.waitStrings) params.append("wait_string", wait);
  }
  if (settings.temperature !== d.temperature)
    params.set("temperature", String(settings.temperature));
  if (settings.topP !== d.topP) params.set("top_p", String(settings.topP));
  if (settings.seed !== null) params.set("seed", String(settings.seed));
  const defaultValues = DEFAULT_LADDER.values.join(",");
  if (ladder.param !== DEFAULT_LADDER.param || ladder.values.join(",") !== defaultValues) {
    params.set("ladder", `${ladder.param}:${ladder.values.join(",")}`);
  }
  return params;
}

export interface DecodedSettings {
  settings: PlaygroundSettings;
  ladder: LadderSettings;
  /** One line per parameter that was ignored, to tell the user the link was partly broken. */
  problems: string[];
}

/** Reads what it can; a bad parameter keeps its default and is reported, never thrown. */
export function decodeSettings(params: URLSearchParams): DecodedSettings {
  const settings: PlaygroundSettings = {
    ...DEFAULT_SETTINGS,
    waitStrings: [...DEFAULT_SETTINGS.waitStrings],
  };
  const problems: string[] = [];

  for (const [key, name] of TEXT_PARAMS) {
    const value = params.get(name);
    if (value !== null) settings[key] = value;
  }
  const mode = params.get("mode");
  if (mode !== null) {
    if (mode === "chat" || mode === "raw") settings.mode = mode;
    else problems.push(`mode: "${mode}" is not chat or raw.`);
  }
  const format = params.get("format");
  if (format !== null) {
    if ((FORMATS as readonly string[]).includes(format)) settings.format = format as FormatChoice;
    else problems.push(`format: "${format}" is not one of ${FORMATS.join(", ")}.`);
  }
  for (const [key, name] of COUNT_PARAMS) {
    const raw = params.get(name);
    if (raw === null) continue;
    const value = Number(raw);
    if (/^\d+$/.test(raw) && Number.isSafeInteger(value)) settings[key] = value;
    else problems.push(`${name}: "${raw}" is not a whole number of 0 or more.`);
  }
  const waits = params.getAll("wait_string");
  if (waits.length > 0) {
    const kept = waits.filter((wait) => wait !== "");
    if (kept.length > 0) settings.waitStrings = kept;
    if (kept.length < waits.length) problems.push("wait_string: empty wait strings were left out.");
  }
  readNumber(
    params,
    "temperature",
    problems,
    (temperature) => samplingProblems({ temperature }).length === 0,
    (value) => {
      settings.temperature = value;
    },
  );
  readNumber(
    params,
    "top_p",
    problems,
    (top_p) => samplingProblems({ top_p }).length === 0,
    (value) => {
      settings.topP = value;
    },
  );
  readNumber(params, "seed", problems, Number.isSafeInteger, (value) => {
    settings.seed = value;
  });

  let ladder: LadderSettings = { ...DEFAULT_LADDER, values: [...DEFAULT_LADDER.values] };
  const rawLadder = params.get("ladder");
  if (rawLadder !== null) {
    const [param = "", list] = rawLadder.split(":", 2);
    if (!isLadderParam(param)) {
      problems.push(
        `ladder: "${param}" cannot be varied (use num_waits, max_thinking_tokens or min_thinking_tokens).`,
      );
    } else {
      const parsed = parseLadderValues(list ?? "");
      if ("error" in parsed) {
        problems.push(`ladder: ${parsed.error}`);
        ladder = { param, values: [...DEFAULT_LADDERS[param]] };
      } else {
        ladder = { param, values: parsed.values };
      }
    }
  }
  return { settings, ladder, problems };
}

function readNumber(
  params: URLSearchParams,
  name: string,
  problems: string[],
  valid: (value: number) => boolean,
  set: (value: number) => void,
): void {
  const raw = params.get(name);
  if (raw === null) return;
  const value = raw.trim() === "" ? Number.NaN : Number(raw);
  if (Number.isFinite(value) && valid(value)) set(value);
  else problems.push(`${name}: "${raw}" is out of range.`);
}
