import type {
  ExperimentDetail,
  ExperimentProgress,
  ExperimentResults,
  ExperimentSetting,
  ProblemRow,
  SettingResult,
} from "@thinkscope/protocol";

/**
 * Hand-built experiment records in the shapes the server sends
 * (apps/server experiment-service.ts and experiment-results.ts), with
 * numbers small enough to check by hand.
 */
export function setting(index: number, varied: ExperimentSetting["varied"]): ExperimentSetting {
  const label =
    Object.entries(varied)
      .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("|") : String(v)}`)
      .join(" ") || "base";
  return { index, label, varied, budget_forcing: { format: "think-tags", ...varied } };
}

export function settingResult(
  s: ExperimentSetting,
  values: Partial<SettingResult> = {},
): SettingResult {
  return {
    setting: s,
    accuracy: null,
    mean_thinking_tokens: null,
    majority_vote_accuracy: null,
    pass_at_k: [],
    samples: 0,
    problems: 0,
    mean_answer_tokens: null,
    mean_waits: null,
    forced_end_rate: null,
    within_budget: null,
    ...values,
  };
}

/**
 * Three problems, two settings (0 and 2 waits), two samples each:
 * - 0 waits: 100 thinking tokens on average, 2 of 6 samples right (33.3%);
 * - 2 waits: 400 thinking tokens, 5 of 6 right (83.3%).
 */
export function twoSettingResults(): ExperimentResults {
  const s0 = setting(0, { num_waits: 0 });
  const s2 = setting(1, { num_waits: 2 });
  const problems: ProblemRow[] = [
    {
      problem_id: "p1",
      problem: "What is 12 + 30?",
      reference: "42",
      settings: [
        cell(2, ["42", "42"], ["run-a", "run-b"], "42", true),
        cell(2, ["42", "42"], ["run-c", "run-d"], "42", true),
      ],
    },
    {
      problem_id: "p2",
      problem: "What is 999 + 1?",
      reference: "1000",
      settings: [
        cell(0, ["100", null], ["run-e", "run-f"], "100", false),
        cell(2, ["1000", "1000"], ["run-g", "run-h"], "1000", true),
      ],
    },
    {
      problem_id: "p3",
      problem: "What is 7 x 8?",
      reference: "56",
      settings: [
        cell(0, ["54", "58"], ["run-i", "run-j"], "54", false),
        cell(1, ["56", "54"], ["run-k", "run-l"], "56", true),
      ],
    },
  ];
  return {
    complete: true,
    settings: [
      settingResult(s0, {
        accuracy: 2 / 6,
        mean_thinking_tokens: 100,
        majority_vote_accuracy: 1 / 3,
        pass_at_k: [2 / 6, 1 / 3],
        samples: 6,
        problems: 3,
        mean_waits: 0,
        forced_end_rate: 0,
        within_budget: 1,
      }),
      settingResult(s2, {
        accuracy: 5 / 6,
        mean_thinking_tokens: 400,
        majority_vote_accuracy: 1,
        pass_at_k: [5 / 6, 1],
        samples: 6,
        problems: 3,
        mean_waits: 2,
        forced_end_rate: 0,
        within_budget: 1,
      }),
    ],
    s1_metrics: {
      control: 1,
      scaling: 25,
      scaling_per_token: 0.1667,
      scaling_unit: "percentage points per doubling of thinking tokens",
      performance: 5 / 6,
    },
    sequential_vs_parallel: {
      sequential: [
        { setting: 1, label: s2.label, tokens: 400, accuracy: 5 / 6 },
        { setting: 0, label: s0.label, tokens: 100, accuracy: 2 / 6 },
      ],
      parallel: [
        {
          setting: 0,
          label: s0.label,
          points: [
            { n: 1, tokens: 100, accuracy: 2 / 6 },
            { n: 2, tokens: 200, accuracy: 1 / 3 },
          ],
        },
        {
          setting: 1,
          label: s2.label,
          points: [
            { n: 1, tokens: 400, accuracy: 5 / 6 },
            { n: 2, tokens: 800, accuracy: 1 },
          ],
        },
      ],
    },
    problems,
  };
}

function cell(
  correct: number,
  answers: Array<string | null>,
  runIds: Array<string | null>,
  majority: string | null,
  majorityCorrect: boolean | null,
) {
  return {
    correct,
    samples: answers.length,
    answers,
    run_ids: runIds,
    majority_answer: majority,
    majority_correct: majorityCorrect,
  };
}

export function progress(values: Partial<ExperimentProgress> = {}): ExperimentProgress {
  return {
    total: 12,
    done: 0,
    running: 0,
    failed: 0,
    pending: 12,
    tokens: 0,
    thinkingTokens: 0,
    elapsedMs: 0,
    etaMs: null,
    inFlight: 0,
    concurrency: 2,
    ...values,
  };
}

export function experimentDetail(
  id: string,
  values: Partial<ExperimentDetail> = {},
): ExperimentDetail {
  const results = twoSettingResults();
  return {
    id,
    name: `experiment ${id}`,
    createdAt: "2026-11-25T08:00:00.000Z",
    updatedAt: "2026-11-25T08:00:00.000Z",
    status: "running",
    preset: null,
    dataset: {
      name: "generated addition, 3 digits, seed 0",
      source: "generator",
      shape: "generated",
      available: 3,
      offset: 0,
      problems: 3,
    },
    backend: "embedded",
    model: null,
    settings: 2,
    samples: 2,
    progress: progress(),
    error: null,
    spec: {
      prompt: { mode: "chat", template: "{problem}" },
      settings: results.settings.map((s) => s.setting),
      samples: 2,
      sampling: { temperature: 0.6, top_p: 0.95, seed: 0 },
      concurrency: 2,
    },
    throughput: null,
    results,
    ...values,
  };
}
