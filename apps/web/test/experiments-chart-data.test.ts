import { describe, expect, it } from "vitest";
import {
  filterProblems,
  log2Ticks,
  logAxisFits,
  metricsView,
  passAtKCrossover,
  passAtKRows,
  passAtKSeries,
  scalingPoints,
  lonePoints,
  sequentialParallelSeries,
  shortLabel,
  sweepLines,
} from "../src/experiments/experiment-chart-data.ts";
import { fileSlug, standaloneSvg } from "../src/experiments/chart-export.ts";
import { columnProblem, previewJsonl } from "../src/lib/jsonl-preview.ts";
import { setting, settingResult, twoSettingResults } from "./experiment-fixtures.ts";

describe("experiment chart data", () => {
  it("puts each setting at its mean thinking tokens and accuracy in percent (the s1 figure)", () => {
    const points = scalingPoints(twoSettingResults());
    expect(points).toEqual([
      {
        setting: 0,
        label: "0 waits",
        tokens: 100,
        accuracy: (2 / 6) * 100,
        samples: 6,
        varied: { num_waits: 0 },
      },
      {
        setting: 1,
        label: "2 waits",
        tokens: 400,
        accuracy: (5 / 6) * 100,
        samples: 6,
        varied: { num_waits: 2 },
      },
    ]);
  });

  it("draws each sweep as one line along its field; settings on two sweeps sit on both, the rest alone", () => {
    const point = (setting: number, varied: Record<string, unknown>, tokens: number) => ({
      setting,
      label: `s${setting}`,
      tokens,
      accuracy: 50,
      samples: 3,
      varied,
    });
    const points = [
      point(0, { max_thinking_tokens: 768, num_waits: 0 }, 90),
      point(1, { max_thinking_tokens: 768, num_waits: 2 }, 300),
      point(2, { max_thinking_tokens: 768, num_waits: 1 }, 190),
      point(3, { max_thinking_tokens: 64, num_waits: 2 }, 64),
      point(4, { max_thinking_tokens: 128, num_waits: 2 }, 128),
      point(5, { min_thinking_tokens: 32 }, 40),
    ];
    const lines = sweepLines(points);
    expect(lines.map((l) => [l.label, l.points.map((p) => p.setting)])).toEqual([
      ["waits 0→2 at cap 768", [0, 2, 1]],
      ["cap 64→768 at 2 waits", [3, 4, 1]],
    ]);
    expect(lonePoints(points, lines).map((p) => p.setting)).toEqual([5]);
  });

  it("leaves out settings nothing has been graded for yet", () => {
    const results = twoSettingResults();
    results.settings[1] = settingResult(results.settings[1]!.setting);
    expect(scalingPoints(results).map((p) => p.setting)).toEqual([0]);
  });

  it("uses a log2 token axis with power-of-two ticks, and a linear one when a setting never thought", () => {
    expect(logAxisFits([100, 400])).toBe(true);
    expect(logAxisFits([0, 400])).toBe(false);
    expect(logAxisFits([])).toBe(false);
    expect(log2Ticks(100, 400)).toEqual([64, 128, 256, 512]);
    // One value still gets an axis around it.
    expect(log2Ticks(64, 64)).toEqual([32, 64, 128]);
    // A wide range keeps at most about 8 ticks, always including both ends.
    const wide = log2Ticks(1, 2 ** 20);
    expect(wide.length).toBeLessThanOrEqual(11);
    expect(wide[0]).toBe(1);
    expect(wide.at(-1)).toBe(2 ** 20);
  });

  it("sets budget forcing (ordered by cost) against majority vote of the cheapest setting by default", () => {
    const series = sequentialParallelSeries(twoSettingResults());
    expect(series.sequential.map((p) => [p.tokens, Math.round(p.accuracy), p.label])).toEqual([
      [100, 33, "0 waits"],
      [400, 83, "2 waits"],
    ]);
    expect(series.parallelSetting).toBe(0);
    expect(series.parallel.map((p) => [p.tokens, Math.round(p.accuracy), p.label])).toEqual([
      [100, 33, "majority of 1"],
      [200, 33, "majority of 2"],
    ]);
    expect(series.choices).toEqual([
      { setting: 0, label: "0 waits" },
      { setting: 1, label: "2 waits" },
    ]);
  });

  it("votes over the chosen setting, and falls back to the default for an unknown choice", () => {
    expect(sequentialParallelSeries(twoSettingResults(), 1).parallel.map((p) => p.tokens)).toEqual([
      400, 800,
    ]);
    expect(sequentialParallelSeries(twoSettingResults(), 7).parallelSetting).toBe(0);
  });

  it("makes one pass@k row per k with a column per setting", () => {
    const results = twoSettingResults();
    expect(passAtKRows(results)).toEqual([
      { k: 1, s0: (2 / 6) * 100, s1: (5 / 6) * 100 },
      { k: 2, s0: (1 / 3) * 100, s1: 100 },
    ]);
    expect(passAtKSeries(results)).toEqual([
      { setting: 0, label: "0 waits" },
      { setting: 1, label: "2 waits" },
    ]);
    results.settings[1]!.pass_at_k = [];
    expect(passAtKSeries(results)).toEqual([{ setting: 0, label: "0 waits" }]);
    expect(passAtKRows(results)[0]).not.toHaveProperty("s1");
  });

  it("marks the first k where the curve behind at pass@1 takes the lead (Yue et al.'s crossover)", () => {
    const series = [
      { setting: 0, label: "tiny-reasoner" },
      { setting: 1, label: "tiny-reasoner-rl" },
    ];
    const rows = (pairs: [number, number][]) => pairs.map(([s0, s1], i) => ({ k: i + 1, s0, s1 }));
    // The twin leads at pass@1; equal at k = 3 is not yet a crossing; the base leads from k = 4.
    expect(
      passAtKCrossover(
        rows([
          [20, 40],
          [35, 50],
          [55, 55],
          [70, 60],
          [80, 62],
        ]),
        series,
      ),
    ).toEqual({ k: 4, overtaker: series[0], overtaken: series[1] });
    // The leader stays ahead: nothing to mark.
    expect(
      passAtKCrossover(
        rows([
          [20, 40],
          [50, 60],
        ]),
        series,
      ),
    ).toBeNull();
    // Tied at pass@1, or more than two curves: no single crossover to mark.
    expect(
      passAtKCrossover(
        rows([
          [30, 30],
          [40, 50],
        ]),
        series,
      ),
    ).toBeNull();
    expect(
      passAtKCrossover(
        rows([
          [20, 40],
          [90, 50],
        ]),
        [...series, { setting: 2, label: "x" }],
      ),
    ).toBeNull();
  });

  it("shows the three s1 metrics with their units and definitions", () => {
    const [control, scaling, performance] = metricsView(twoSettingResults().s1_metrics);
    expect(control).toMatchObject({ name: "Control", value: "100%" });
    expect(scaling).toMatchObject({ name: "Scaling", value: "+25.0" });
    expect(scaling!.definition).toMatch(/accuracy points per doubling of thinking tokens/);
    expect(performance).toMatchObject({ name: "Performance", value: "83.3%" });
    const empty = metricsView({
      control: null,
      scaling: null,
      scaling_per_token: null,
      scaling_unit: "percentage points per doubling of thinking tokens",
      performance: null,
    });
    expect(empty.map((m) => m.value)).toEqual(["–", "–", "–"]);
    expect(metricsView({ ...twoSettingResults().s1_metrics, scaling: -35 })[1]!.value).toBe(
      "-35.0",
    );
  });

  it("explains a negative or missing slope, with how much one answer moves an accuracy", () => {
    const negative = metricsView({ ...twoSettingResults().s1_metrics, scaling: -12 }, 9)[1]!;
    expect(negative.caveat).toMatch(/^Negative: /);
    expect(negative.caveat).toMatch(
      /9 graded samples per setting, one answer moves an accuracy by 11\.1 points/,
    );
    expect(negative.caveat).toMatch(/step/);
    expect(metricsView(twoSettingResults().s1_metrics, 9)[1]!.caveat).toBeUndefined();
    const missing = metricsView({ ...twoSettingResults().s1_metrics, scaling: null })[1]!;
    expect(missing.caveat).toMatch(/at least two settings/);
  });

  it("names settings in few words", () => {
    expect(shortLabel(setting(0, { num_waits: 1 }))).toBe("1 wait");
    expect(shortLabel(setting(0, { num_waits: 2, max_thinking_tokens: 512 }))).toBe(
      "2 waits · cap 512",
    );
    expect(shortLabel(setting(0, { wait_string: "Hmm", min_thinking_tokens: 64 }))).toBe(
      '"Hmm" · min 64',
    );
    expect(shortLabel(setting(0, {}))).toBe("base");
    expect(shortLabel({ ...setting(0, {}), model: "tiny-reasoner-rl" })).toBe("tiny-reasoner-rl");
    expect(shortLabel({ ...setting(0, { num_waits: 2 }), model: "tiny-reasoner" })).toBe(
      "tiny-reasoner · 2 waits",
    );
    expect(shortLabel(setting(0, { final_answer_prefix: "Answer:" }))).toBe(
      "final_answer_prefix=Answer:",
    );
  });

  it("filters problems to where the settings differ, never solved, or always solved", () => {
    const rows = twoSettingResults().problems;
    const ids = (filter: Parameters<typeof filterProblems>[1]) =>
      filterProblems(rows, filter).map((r) => r.problem_id);
    expect(ids("all")).toEqual(["p1", "p2", "p3"]);
    expect(ids("differs")).toEqual(["p2", "p3"]);
    expect(ids("solved")).toEqual(["p1"]);
    expect(ids("unsolved")).toEqual([]);
  });
});

describe("a dataset upload's preview", () => {
  it("counts rows and recognises the AIME/MATH and GSM8K shapes", () => {
    const aime = previewJsonl('{"problem": "P1", "answer": 3}\n\n{"problem": "P2", "answer": 4}\n');
    expect(aime).toMatchObject({ rows: 2, shape: "problem-answer", sample: "P1", error: null });
    const gsm = previewJsonl('{"question": "Q", "answer": "so #### 18"}');
    expect(gsm).toMatchObject({ rows: 1, shape: "question-answer", sample: "Q" });
    expect(columnProblem(gsm, { problem: "", answer: "", id: "" })).toBeNull();
  });

  it("says which line is broken, and asks for a mapping when the keys are unknown", () => {
    expect(previewJsonl('{"problem": "P", "answer": 1}\nnot json').error).toBe(
      "Line 2 is not JSON: a JSONL file has one JSON object per line.",
    );
    expect(previewJsonl("[1, 2]").error).toBe("Line 1 is not a JSON object.");
    expect(previewJsonl("\n\n").error).toBe("The file has no rows.");
    const other = previewJsonl('{"q": "Q", "a": "1", "uid": "x"}');
    expect(other.shape).toBeNull();
    expect(columnProblem(other, { problem: "", answer: "", id: "" })).toMatch(/map the columns/);
    expect(columnProblem(other, { problem: "q", answer: "", id: "" })).toBe(
      "Map both the problem and the answer column.",
    );
    expect(columnProblem(other, { problem: "q", answer: "answer", id: "" })).toBe(
      'The first row has no "answer" (it has q, a, uid).',
    );
    expect(columnProblem(other, { problem: "q", answer: "a", id: "uid" })).toBeNull();
  });
});

describe("chart export", () => {
  function chartSvg(): SVGSVGElement {
    const host = document.createElement("div");
    host.innerHTML =
      '<svg class="recharts-surface" width="300" height="200" style="width: 100%">' +
      '<g><circle class="recharts-scatter-symbol" r="4" fill="var(--c0)" />' +
      '<text style="fill: var(--text-muted)">16</text></g></svg>';
    document.body.appendChild(host);
    return host.querySelector("svg")!;
  }
  const colors: Record<string, string> = {
    "--c0": "#3b6fe0",
    "--text-muted": "#5f5850",
    "--surface": "#ffffff",
    "--text": "#16130f",
  };
  const resolveColor = (color: string) =>
    color.replace(/var\((--[\w-]+)\)/g, (whole, name: string) => colors[name] ?? whole);

  it("makes a standalone SVG: variables resolved, a title, a legend and a background added", () => {
    const text = standaloneSvg(chartSvg(), {
      title: "pass@k",
      legend: [
        { label: "0 waits", color: "var(--c0)" },
        { label: "2 waits", color: "#9b4ddb" },
      ],
      resolveColor,
      // Every element computes the same font; only the root needs to say it.
      styleOf: () => ({
        getPropertyValue: (name: string) => (name === "font-size" ? "12px" : ""),
      }),
    });
    expect(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg')).toBe(true);
    expect(text).not.toContain("var(--");
    const doc = new DOMParser().parseFromString(text, "image/svg+xml");
    const root = doc.documentElement;
    expect(root.getAttribute("xmlns")).toBe("http://www.w3.org/2000/svg");
    expect(root.getAttribute("width")).toBe("300");
    // Title row above, one legend row below.
    expect(Number(root.getAttribute("height"))).toBeGreaterThan(200 + 28);
    expect(doc.querySelector("rect")?.getAttribute("fill")).toBe("#ffffff");
    expect([...doc.querySelectorAll("text")].map((t) => t.textContent)).toEqual([
      "pass@k",
      "16",
      "0 waits",
      "2 waits",
    ]);
    expect(doc.querySelector("circle")?.getAttribute("fill")).toBe("#3b6fe0");
    const chart = doc.querySelector("svg.recharts-surface")!;
    expect(chart.getAttribute("style")).toBe("font-size: 12px");
    // Inherited values are written once, on the chart's root, not on every element.
    expect(doc.querySelector("g")?.getAttribute("style")).toBeNull();
    expect(doc.querySelector("svg.recharts-surface text")?.getAttribute("style")).toBe(
      "fill: #5f5850",
    );
  });

  it("names files after the figure", () => {
    expect(fileSlug("exp-1 Accuracy against thinking tokens")).toBe(
      "exp-1-accuracy-against-thinking-tokens",
    );
    expect(fileSlug("???")).toBe("chart");
  });
});
