/**
 * `npm run bench -- methods`: the thinking-control methods side by side on
 * the bundled tiny reasoner and its held-out problems (docs/methods.md's
 * table). Prints, per method, accuracy, mean thinking tokens, mean probe
 * tokens (side requests, not in the trace) and the tokens paid in all.
 * `THINKSCOPE_METHODS_LIMIT` (default 50) sets how many problems.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BudgetForcingRun,
  RunTranscript,
  confidenceVote,
  extractAnswer,
  grade,
  majorityVote,
  type RunRequest,
} from "@thinkscope/core";
import type { BudgetForcing } from "@thinkscope/protocol";
import { DEFAULT_EMBEDDED_MODEL, createEmbeddedBackend } from "@thinkscope/backends";

interface Method {
  name: string;
  budget: BudgetForcing;
  /** Samples per problem, voted by majority (temperature 0.6, top_p 0.95); 1 is greedy. */
  samples?: number;
  /** Vote by DeepConf's confidence (window 32) instead of by majority. */
  confidence?: boolean;
}

/**
 * The tiny reasoner learned to check its sum after `Wait` (", let me check
 * digit by digit:"), so for it the rejection ends in the word that starts a check.
 */
const ELIMINATE_THEN_WAIT = "The answer is not {answer}.\nWait";

const BASE: BudgetForcing = { max_thinking_tokens: 400, max_answer_tokens: 32 };
const METHODS: Method[] = [
  { name: "no control (greedy)", budget: {} },
  { name: "s1 waits: num_waits=2", budget: { num_waits: 2 } },
  { name: "s1 cap: num_waits=2, cap 100", budget: { num_waits: 2, max_thinking_tokens: 100 } },
  {
    name: "cap 100 + grace 24 + budget message",
    budget: {
      num_waits: 2,
      max_thinking_tokens: 100,
      grace_tokens: 24,
      budget_message: "Time is up.",
    },
  },
  { name: 'suppress ["Wait"] (NoWait)', budget: { suppress: ["Wait"] } },
  { name: 'num_waits=2, suppress ["check"]', budget: { num_waits: 2, suppress: ["check"] } },
  {
    name: "loop_guard 32x3, num_waits=2",
    budget: { num_waits: 2, loop_guard: { window: 32, repeats: 3 } },
  },
  {
    name: "early_exit every 32, stable 2, num_waits=4",
    budget: { num_waits: 4, early_exit: { probe_every: 32, stable: 2 } },
  },
  { name: "s1 waits: num_waits=4", budget: { num_waits: 4 } },
  { name: 'eliminate 1, verifier "none"', budget: { eliminate: { attempts: 1 } } },
  {
    name: 'eliminate 1, verifier "reference"',
    budget: { eliminate: { attempts: 1, verifier: "reference" } },
  },
  {
    name: 'eliminate 2, verifier "reference"',
    budget: { eliminate: { attempts: 2, verifier: "reference" } },
  },
  {
    name: 'eliminate 1, "reference", text ending in Wait',
    budget: { eliminate: { attempts: 1, verifier: "reference", text: ELIMINATE_THEN_WAIT } },
  },
  {
    name: 'eliminate 2, "reference", text ending in Wait',
    budget: { eliminate: { attempts: 2, verifier: "reference", text: ELIMINATE_THEN_WAIT } },
  },
  {
    name: 'eliminate 2, "none", text ending in Wait',
    budget: { eliminate: { attempts: 2, text: ELIMINATE_THEN_WAIT } },
  },
  {
    name: "early_exit every 64, stable 3, num_waits=4",
    budget: { num_waits: 4, early_exit: { probe_every: 64, stable: 3 } },
  },
  { name: "majority of 2 samples", budget: {}, samples: 2 },
  { name: "majority of 3 samples", budget: {}, samples: 3 },
  { name: "confidence vote of 3 samples (window 32)", budget: {}, samples: 3, confidence: true },
];

export async function run(): Promise<void> {
  const limit = Number(process.env.THINKSCOPE_METHODS_LIMIT ?? 50);
  const problems = readFileSync(
    DEFAULT_EMBEDDED_MODEL.bundledPath.replace(/\.gguf$/, ".heldout.jsonl"),
    "utf8",
  )
    .trim()
    .split("\n")
    .slice(0, limit)
    .map((line) => JSON.parse(line) as { problem: string; answer: number });
  const dataDir = await mkdtemp(join(tmpdir(), "thinkscope-methods-bench-"));
  const backend = createEmbeddedBackend({ dataDir });
  await backend.prepare();
  const once = async (prompt: string, request: Omit<RunRequest, "prompt">) => {
    const session = await backend.openSession({});
    try {
      const prepared = await BudgetForcingRun.prepare(session, backend.capabilities, {
        prompt,
        ...request,
      });
      const transcript = new RunTranscript();
      for await (const event of prepared.events()) transcript.apply(event);
      return transcript;
    } finally {
      await session.close();
    }
  };
  console.log(`${problems.length} held-out problems of ${DEFAULT_EMBEDDED_MODEL.bundledPath}`);
  console.log("| method | accuracy | thinking tokens | probe tokens | all tokens |");
  console.log("| --- | ---: | ---: | ---: | ---: |");
  // `THINKSCOPE_METHODS_ONLY=eliminate` runs the methods whose name holds that text.
  const only = process.env.THINKSCOPE_METHODS_ONLY;
  try {
    for (const method of METHODS.filter((m) => only === undefined || m.name.includes(only))) {
      let correct = 0;
      let thinking = 0;
      let probes = 0;
      let all = 0;
      for (const { problem, answer } of problems) {
        const prompt = await backend.applyChatTemplate([{ role: "user", content: problem }], {});
        const samples = method.samples ?? 1;
        const answers: (string | null)[] = [];
        const confidences: (number | null)[] = [];
        for (let sample = 0; sample < samples; sample++) {
          const transcript = await once(prompt, {
            budgetForcing: { ...BASE, ...method.budget },
            sampling:
              samples > 1 ? { temperature: 0.6, topP: 0.95, seed: sample } : { temperature: 0 },
            reference: String(answer),
            ...(method.confidence ? { confidenceWindow: 32 } : {}),
          });
          confidences.push(transcript.stats?.lowestGroupLogprob ?? null);
          const summary = transcript.summary();
          thinking += summary.thinking_tokens;
          probes += summary.probe_tokens ?? 0;
          all +=
            summary.thinking_tokens +
            summary.close_tokens +
            summary.answer_tokens +
            (summary.probe_tokens ?? 0);
          answers.push(extractAnswer(transcript.answerText)?.answer ?? null);
        }
        const voted = method.confidence
          ? confidenceVote(answers.map((a, i) => ({ answer: a, confidence: confidences[i]! })))
              .answer
          : majorityVote(answers).answer;
        if (voted !== null && grade(`\\boxed{${voted}}`, String(answer)).correct) correct += 1;
      }
      const n = problems.length;
      console.log(
        `| ${method.name} | ${((100 * correct) / n).toFixed(0)}% | ${(thinking / n).toFixed(0)} | ${(probes / n).toFixed(0)} | ${(all / n).toFixed(0)} |`,
      );
    }
  } finally {
    await backend.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
