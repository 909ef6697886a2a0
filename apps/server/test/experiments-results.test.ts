/** The pure parts of experiments: the settings grid, the results' statistics, the CSV export. */
import { majorityVote } from "@thinkscope/core";
import type { ExperimentSpec } from "@thinkscope/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  computeResults,
  majorityAccuracies,
} from "../src/services/experiments/experiment-results.ts";
import type { ItemRecord } from "../src/store/experiment-store.ts";
import { toCsv } from "../src/services/experiments/results-csv.ts";
import { buildSettings } from "../src/services/experiments/settings-sweep.ts";

describe("the settings grid", () => {
  it("is the explicit settings, then the sweep's product (the last field fastest), over the base", () => {
    const settings = buildSettings(
      { max_answer_tokens: 50 },
      [{ num_waits: 6 }],
      { max_thinking_tokens: [100, 200], wait_string: ["Wait", ["Hmm", "Alternatively"]] },
      {},
    );
    expect(settings.map((s) => s.label)).toEqual([
      "num_waits=6",
      "max_thinking_tokens=100 wait_string=Wait",
      "max_thinking_tokens=100 wait_string=Hmm|Alternatively",
      "max_thinking_tokens=200 wait_string=Wait",
      "max_thinking_tokens=200 wait_string=Hmm|Alternatively",
    ]);
    expect(settings[2]!.budget_forcing).toEqual({
      max_answer_tokens: 50,
      max_thinking_tokens: 100,
      wait_string: ["Hmm", "Alternatively"],
    });
    expect(buildSettings({}, [], {}, {}).map((s) => s.label)).toEqual(["base"]);
  });

  it("passes every setting to the operator's caps, naming the one refused", () => {
    const cap = (bf: { num_waits?: number }) => {
      if ((bf.num_waits ?? 0) > 4)
        throw Object.assign(new Error("num_waits is above the cap 4."), {
          code: "budget_above_cap",
        });
    };
    expect(() => buildSettings({}, [], { num_waits: [2, 6] }, {}, cap)).toThrow(
      "Setting 2 (num_waits=6): num_waits is above the cap 4.",
    );
  });
});

describe("majority vote over n of a problem's samples", () => {
  it("averages over every n-subset, ties going to the earliest sample", () => {
    // A is right, B wrong. n=2: {A,B} ties -> A, {A,B'} -> A, {B,B'} -> B.
    const samples = [
      { correct: true, extracted: "A" },
      { correct: false, extracted: "B" },
      { correct: false, extracted: "B" },
    ];
    const [one, two, three] = majorityAccuracies(samples, [1, 2, 3], 0);
    expect(one).toBeCloseTo(1 / 3);
    expect(two).toBeCloseTo(2 / 3);
    expect(three).toBe(0);
  });

  it("equals majorityVote over every subset, whatever the answers' spellings and ties", () => {
    // Answers that normalise alike ("1/2", "0.5", "\\frac12") must vote together, and no answer must not vote.
    const answer = fc.constantFrom("1/2", "0.5", "\\frac12", "3", " 3 ", "7", "", null);
    const sample = fc.record({ correct: fc.boolean(), extracted: answer });
    fc.assert(
      fc.property(fc.array(sample, { minLength: 1, maxLength: 7 }), (samples) => {
        const sizes = samples.map((_, i) => i + 1);
        const fast = majorityAccuracies(samples, sizes, 0);
        sizes.forEach((n, i) => {
          const subsets = combinations(samples.length, n);
          const right = subsets.filter((subset) => {
            const picked = subset.map((j) => samples[j]!);
            const vote = majorityVote(picked.map((s) => s.extracted));
            return vote.index >= 0 && picked[vote.index]!.correct;
          }).length;
          expect(fast[i]).toBeCloseTo(right / subsets.length, 12);
        });
      }),
    );
  });

  it("draws a seeded sample of subsets when there are too many, reproducibly", () => {
    const samples = Array.from({ length: 20 }, (_, i) => ({
      correct: i % 3 === 0,
      extracted: i % 3 === 0 ? "7" : String(i % 2),
    }));
    const first = majorityAccuracies(samples, [10], 42)[0];
    expect(majorityAccuracies(samples, [10], 42)[0]).toBe(first);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(1);
  });
});

function combinations(m: number, n: number): number[][] {
  if (n === 0) return [[]];
  if (m < n) return [];
  return [
    ...combinations(m - 1, n),
    ...combinations(m - 1, n - 1).map((subset) => [...subset, m - 1]),
  ];
}

describe("results", () => {
  const spec: ExperimentSpec = {
    prompt: { mode: "chat", template: "{problem}" },
    settings: [
      {
        index: 0,
        label: "max_thinking_tokens=100",
        varied: {},
        budget_forcing: { max_thinking_tokens: 100 },
      },
      {
        index: 1,
        label: "max_thinking_tokens=400",
        varied: {},
        budget_forcing: { max_thinking_tokens: 400 },
      },
    ],
    samples: 2,
    sampling: { seed: 0 },
    concurrency: 1,
  };
  const problems = [
    { id: "p1", problem: "1+1", answer: "2", meta: {} },
    { id: "p2", problem: "2+2", answer: "4", meta: {} },
  ];
  function item(
    problem: number,
    setting: number,
    sample: number,
    correct: boolean,
    tokens: number,
  ): ItemRecord {
    return {
      problem,
      setting,
      sample,
      status: "done",
      seed: sample,
      runId: `run_${problem}${setting}${sample}`,
      correct,
      extracted: correct ? problems[problem]!.answer : "0",
      thinkingTokens: tokens,
      answerTokens: 3,
      waits: 0,
      forcedEnd: tokens >= 100,
      withinBudget: tokens <= (setting === 0 ? 100 : 400),
      confidence: null,
      error: null,
    };
  }

  it("computes accuracy, s1 metrics in points per doubling, and the per-problem table", () => {
    const items = [
      item(0, 0, 0, true, 100),
      item(0, 0, 1, false, 100),
      item(1, 0, 0, false, 100),
      item(1, 0, 1, false, 100),
      item(0, 1, 0, true, 400),
      item(0, 1, 1, true, 400),
      item(1, 1, 0, true, 400),
      item(1, 1, 1, false, 410),
    ];
    const results = computeResults(problems, spec, items);
    expect(results.complete).toBe(true);
    expect(results.settings.map((s) => s.accuracy)).toEqual([0.25, 0.75]);
    expect(results.settings[1]!.mean_thinking_tokens).toBe(402.5);
    // One run of eight went over its budget.
    expect(results.s1_metrics.control).toBe(7 / 8);
    // (75 - 25) points over log2(402.5 / 100) doublings.
    expect(results.s1_metrics.scaling).toBeCloseTo(50 / Math.log2(4.025));
    expect(results.s1_metrics.performance).toBe(0.75);
    expect(results.problems[1]!.settings[1]).toEqual({
      correct: 1,
      samples: 2,
      answers: ["4", "0"],
      run_ids: ["run_110", "run_111"],
      majority_answer: "4",
      majority_correct: true,
    });
  });

  it("reports settings with nothing graded yet as empty, and the results as incomplete", () => {
    const results = computeResults(problems, spec, [
      item(0, 0, 0, true, 50),
      { ...item(0, 1, 0, false, 0), status: "pending" },
    ]);
    expect(results.complete).toBe(false);
    expect(results.settings[1]).toMatchObject({ accuracy: null, samples: 0, pass_at_k: [] });
    expect(results.s1_metrics.scaling).toBeNull();
  });
});

describe("CSV", () => {
  it("quotes fields with commas, quotes and line breaks", () => {
    expect(toCsv([["a", 'say "hi"', "1,2", "x\ny", null, true, 0.5]])).toBe(
      'a,"say ""hi""","1,2","x\ny",,1,0.5\r\n',
    );
  });
});
