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
   * The embedded model files (relative to the root) the preset is made for:
   * an embedded backend serving the first is picked when the request names
   * none; the others are the models its sweep names (the CLI serves them all).
   */
  modelFiles?: readonly string[];
  /** The request's other fields (no dataset: that is `datasetFile`). */
  request: Omit<ExperimentCreate, "preset" | "dataset">;
}

/**
 * The presets run the tiny reasoner (docs/models.md) on its held-out addition
 * problems. It writes a quick sum that makes a random number of column
 * mistakes; each check after a `Wait` fixes the first wrong column, so each
 * forced wait buys a real but smaller gain. Each preset is sized to finish in
 * about two minutes on two CPU cores (the model decodes about 700 tokens/s
 * per core); `--limit 200` runs it on every held-out problem.
 */
const HELDOUT = "models/tiny-reasoner.heldout.jsonl";
const BASE_MODEL = "models/tiny-reasoner.gguf";
const TWIN_MODEL = "models/tiny-reasoner-rl.gguf";
const WAITS = [0, 1, 2, 3, 4, 6];
/** Room for six checks: forced waits, not the budget, decide where thinking ends. */
const ROOMY_BUDGET = 768;
/** Caps that cut the thinking before, during and after the second check. */
const CAPS = [128, 192, 256];
// The model was trained on bare questions (`What is A + B?`), not on an instruction to box the answer.
const BARE_QUESTION = { mode: "chat", template: "{problem}" } as const;
const THINK_TAGS = { format: "think-tags", max_answer_tokens: 32 } as const;
const waitsAt = (waits: readonly number[]): BudgetForcing[] =>
  waits.map((num_waits) => ({ num_waits, max_thinking_tokens: ROOMY_BUDGET }));

export const PRESETS: readonly ExperimentPreset[] = [
  {
    id: "tiny-reasoner",
    title: "Tiny reasoner: forced waits and budget caps",
    description:
      "The bundled tiny model on its 200 held-out addition problems: accuracy against forced waits " +
      `(${WAITS.join(", ")}) and against thinking budgets (${CAPS.join(", ")} tokens at 6 waits), ` +
      "on the first 10 problems with 3 samples each at temperature 0.3, for majority vote and pass@k " +
      "(about two minutes on a CPU).",
    datasetFile: HELDOUT,
    modelFiles: [BASE_MODEL],
    request: {
      name: "tiny-reasoner",
      prompt: BARE_QUESTION,
      budget_forcing: THINK_TAGS,
      settings: [
        ...waitsAt(WAITS),
        ...CAPS.map((max_thinking_tokens): BudgetForcing => ({
          num_waits: 6,
          max_thinking_tokens,
        })),
      ],
      limit: 10,
      samples: 3,
      sampling: { temperature: 0.3, top_p: 0.95, seed: 0 },
    },
  },
  {
    id: "s1-curve",
    title: "s1 curve: accuracy against thinking, rising then flat",
    description:
      `The s1 figure on the tiny model: forced waits ${WAITS.join(", ")} and caps of ${CAPS.join(", ")} ` +
      "thinking tokens, 24 held-out problems sampled twice at temperature 0.3. Expect Control 100%, a " +
      "positive Scaling and a plateau after 3 waits; rerun with another seed to see the spread.",
    datasetFile: HELDOUT,
    modelFiles: [BASE_MODEL],
    request: {
      name: "s1-curve",
      prompt: BARE_QUESTION,
      budget_forcing: THINK_TAGS,
      settings: [
        ...waitsAt(WAITS),
        ...CAPS.map((max_thinking_tokens): BudgetForcing => ({
          num_waits: 6,
          max_thinking_tokens,
        })),
      ],
      limit: 24,
      samples: 2,
      // Cooler than pass@k's 0.6: at 0.6 the tiny model's later checks sometimes
      // "fix" a right column, so accuracy sags after 3 waits instead of flattening.
      sampling: { temperature: 0.3, top_p: 0.95, seed: 1 },
    },
  },
  {
    id: "rl-vs-base",
    title: "RL against base: pass@k for k = 1 to 64",
    description:
      "The tiny model and its twin sharpened by rejection-sampling fine-tuning on its own correct, one-pass samples, " +
      "64 samples per problem at temperature 0.6 with no forced waits, on the first 12 held-out problems. " +
      "Yue et al.: RL raises pass@1, and the base catches up at large k; the chart marks where the curves cross.",
    datasetFile: HELDOUT,
    modelFiles: [BASE_MODEL, TWIN_MODEL],
    request: {
      name: "rl-vs-base",
      prompt: BARE_QUESTION,
      budget_forcing: { ...THINK_TAGS, num_waits: 0, max_thinking_tokens: ROOMY_BUDGET },
      sweep: { model: ["tiny-reasoner", "tiny-reasoner-rl"] },
      limit: 12,
      samples: 64,
      sampling: { temperature: 0.6, top_p: 0.95, seed: 0 },
    },
  },
  {
    id: "sequential-vs-parallel",
    title: "Sequential against parallel: forced waits or majority vote at equal tokens",
    description:
      "The tiny model thinking longer (forced waits 0 to 3) against voting over more samples of its quick " +
      "pass (majority of 1 to 8), each point at its thinking-token cost, on the first 10 held-out problems.",
    datasetFile: HELDOUT,
    modelFiles: [BASE_MODEL],
    request: {
      name: "sequential-vs-parallel",
      prompt: BARE_QUESTION,
      budget_forcing: THINK_TAGS,
      settings: waitsAt([0, 1, 2, 3]),
      limit: 10,
      samples: 8,
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
    datasetFile: HELDOUT,
    modelFiles: [BASE_MODEL],
    request: {
      name: "methods",
      prompt: BARE_QUESTION,
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
