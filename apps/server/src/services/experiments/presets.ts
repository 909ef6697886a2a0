/**
 * Built-in experiments: a preset is a create request with its dataset and
 * settings filled in, which a request (or the CLI) may override field by
 * field. Presets name repository files, so they are trusted paths.
 */
import { fileURLToPath } from "node:url";
import type { BudgetForcing, ExperimentCreate, ExperimentPresetInfo } from "@thinkscope/protocol";

/** The repository root (presets' files are relative to it). */
export const REPO_ROOT = fileURLToPath(new URL("../../../../../", import.meta.url));

export interface ExperimentPreset extends ExperimentPresetInfo {
  /** A repository file (JSONL), relative to the root. */
  datasetFile: string;
  /**
   * The embedded model file (relative to the root) the preset is made for;
   * an embedded backend serving it is picked when the request names none.
   */
  modelFile?: string;
  /** The request's other fields (no dataset: that is `datasetFile`). */
  request: Omit<ExperimentCreate, "preset" | "dataset">;
}

/**
 * The tiny reasoner (docs/models.md) on its held-out addition problems: forced
 * waits 0, 1, 2, 4, 6 at a roomy budget (the s1 extrapolation curve), then
 * budget caps that cut the check short, sampled for majority vote and pass@k.
 * The model writes a quick sum, and after a `Wait` a column-by-column check.
 */
const TINY_REASONER_WAITS = [0, 1, 2, 4, 6];
const TINY_REASONER_CAPS = [64, 128, 192];
const TINY_REASONER_ROOMY_BUDGET = 768;

export const PRESETS: readonly ExperimentPreset[] = [
  {
    id: "tiny-reasoner",
    title: "Tiny reasoner: forced waits and budget caps",
    description:
      "The bundled tiny model on its 200 held-out addition problems: accuracy against forced waits " +
      `(${TINY_REASONER_WAITS.join(", ")}) and against thinking budgets (${TINY_REASONER_CAPS.join(", ")} tokens), ` +
      "on the first 12 problems with 3 samples each, for majority vote and pass@k (under two minutes on a CPU).",
    datasetFile: "models/tiny-reasoner.heldout.jsonl",
    modelFile: "models/tiny-reasoner.gguf",
    request: {
      name: "tiny-reasoner",
      // The model was trained on bare questions (`What is A + B?`), not on an instruction to box the answer.
      prompt: { mode: "chat", template: "{problem}" },
      budget_forcing: { format: "think-tags", max_answer_tokens: 32 },
      settings: [
        ...TINY_REASONER_WAITS.map((num_waits): BudgetForcing => ({
          num_waits,
          max_thinking_tokens: TINY_REASONER_ROOMY_BUDGET,
        })),
        ...TINY_REASONER_CAPS.map((max_thinking_tokens): BudgetForcing => ({
          num_waits: 2,
          max_thinking_tokens,
        })),
      ],
      // Sized to finish in about two minutes on a 2-core CPU (the model runs at
      // about 700 tokens/s); `--limit 200 --samples 1 --temperature 0` gives the
      // full greedy curve of docs/models.md in about nine.
      limit: 12,
      samples: 3,
      sampling: { temperature: 0.6, top_p: 0.95, seed: 0 },
    },
  },
  {
    id: "methods",
    title: "Tiny reasoner: thinking-control methods side by side",
    description:
      "The bundled tiny model on 12 held-out problems, 3 samples each: s1 waits and a cap, the cap with " +
      "grace and a budget message, the loop breaker, early exit on a stable answer and elimination " +
      "against the reference answer, with majority and confidence votes (docs/methods.md; about two minutes on a CPU).",
    datasetFile: "models/tiny-reasoner.heldout.jsonl",
    modelFile: "models/tiny-reasoner.gguf",
    request: {
      name: "methods",
      prompt: { mode: "chat", template: "{problem}" },
      budget_forcing: { format: "think-tags", max_answer_tokens: 32, max_thinking_tokens: 400 },
      settings: [
        { num_waits: 2 },
        { num_waits: 2, max_thinking_tokens: 100 },
        { num_waits: 2, max_thinking_tokens: 100, grace_tokens: 24, budget_message: "Time is up." },
        { num_waits: 2, loop_guard: { window: 32, repeats: 3 } },
        { num_waits: 4, early_exit: { probe_every: 64, stable: 3 } },
        { eliminate: { attempts: 1, verifier: "reference" } },
      ],
      limit: 12,
      samples: 3,
      sampling: { temperature: 0.6, top_p: 0.95, seed: 0 },
      vote: { method: "confidence", window: 32 },
    },
  },
];

export function findPreset(id: string): ExperimentPreset | undefined {
  return PRESETS.find((preset) => preset.id === id);
}

export function presetInfos(): ExperimentPresetInfo[] {
  return PRESETS.map(({ id, title, description }) => ({ id, title, description }));
}
