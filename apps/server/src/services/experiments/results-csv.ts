/**
 * CSV exports of an experiment (RFC 4180: comma-separated, CRLF, fields
 * quoted when they hold a comma, quote or line break): one row per setting
 * with its metrics, or one row per item (problem x setting x sample).
 */
import type { Problem } from "@thinkscope/core";
import type { ExperimentResults, ExperimentSpec } from "@thinkscope/protocol";
import type { ItemRecord } from "../../store/experiment-store.ts";

type Cell = string | number | boolean | null | undefined;

export function settingsCsv(results: ExperimentResults): string {
  const maxK = Math.max(0, ...results.settings.map((s) => s.pass_at_k.length));
  const header = [
    "setting",
    "label",
    "max_thinking_tokens",
    "min_thinking_tokens",
    "num_waits",
    "wait_string",
    "samples",
    "problems",
    "accuracy",
    "mean_thinking_tokens",
    "majority_vote_accuracy",
    "mean_answer_tokens",
    "mean_waits",
    "forced_end_rate",
    "within_budget",
    ...Array.from({ length: maxK }, (_, i) => `pass_at_${i + 1}`),
  ];
  const rows = results.settings.map((s) => {
    const bf = s.setting.budget_forcing;
    return [
      s.setting.index,
      s.setting.label,
      bf.max_thinking_tokens,
      bf.min_thinking_tokens,
      bf.num_waits,
      Array.isArray(bf.wait_string) ? bf.wait_string.join("|") : bf.wait_string,
      s.samples,
      s.problems,
      s.accuracy,
      s.mean_thinking_tokens,
      s.majority_vote_accuracy,
      s.mean_answer_tokens,
      s.mean_waits,
      s.forced_end_rate,
      s.within_budget,
      ...Array.from({ length: maxK }, (_, i) => s.pass_at_k[i]),
    ];
  });
  return toCsv([header, ...rows]);
}

export function itemsCsv(
  problems: readonly Problem[],
  spec: ExperimentSpec,
  items: readonly ItemRecord[],
): string {
  const header = [
    "problem_id",
    "reference",
    "setting",
    "label",
    "sample",
    "seed",
    "status",
    "correct",
    "extracted_answer",
    "thinking_tokens",
    "answer_tokens",
    "waits",
    "forced_end",
    "within_budget",
    "run_id",
    "error",
  ];
  const rows = items.map((item) => {
    const problem = problems[item.problem];
    return [
      problem?.id,
      problem?.answer,
      item.setting,
      spec.settings[item.setting]?.label,
      item.sample,
      item.seed,
      item.status,
      item.correct,
      item.extracted,
      item.thinkingTokens,
      item.answerTokens,
      item.waits,
      item.forcedEnd,
      item.withinBudget,
      item.runId,
      item.error ? `${item.error.code}: ${item.error.message}` : null,
    ];
  });
  return toCsv([header, ...rows]);
}

export function toCsv(rows: readonly (readonly Cell[])[]): string {
  return rows.map((row) => row.map(cell).join(",")).join("\r\n") + "\r\n";
}

function cell(value: Cell): string {
  if (value === null || value === undefined) return "";
  const text = typeof value === "boolean" ? (value ? "1" : "0") : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
