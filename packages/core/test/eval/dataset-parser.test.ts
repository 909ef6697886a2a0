/// <reference types="node" />
import { describe, expect, it } from "vitest";
import { DatasetError, parseDataset } from "../../src/eval/index.ts";
import { describeWithSharedData, readSharedData } from "./shared-data.ts";

const line = (row: unknown) => JSON.stringify(row);

function issuesOf(fn: () => unknown): { line: number; message: string }[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DatasetError);
    return (error as DatasetError).issues;
  }
  throw new Error("expected a DatasetError");
}

describeWithSharedData("parseDataset on the shared reference sets", () => {
  it("loads AIME 2024 with integer answers and keeps its ids", () => {
    const { shape, problems } = parseDataset(readSharedData("aime24.jsonl"));
    expect(shape).toBe("aime");
    expect(problems).toHaveLength(30);
    expect(problems[0]?.id).toBe("60");
    expect(problems[0]?.answer).toBe("204");
    expect(problems.every((p) => /^\d{1,3}$/.test(p.answer))).toBe(true);
    expect(problems[0]?.meta).toHaveProperty("url");
    expect(problems[0]?.meta).not.toHaveProperty("id");
  });

  it("loads MATH-500 with LaTeX answers and subject/level in meta", () => {
    const { shape, problems } = parseDataset(readSharedData("math500-test.jsonl"));
    expect(shape).toBe("math");
    expect(problems).toHaveLength(500);
    expect(problems[0]?.answer).toBe("\\left( 3, \\frac{\\pi}{2} \\right)");
    expect(problems[0]?.meta).toMatchObject({ subject: "Precalculus", level: 2 });
    expect(new Set(problems.map((p) => p.id)).size).toBe(500);
  });

  it("loads GSM8K, taking the number after `#### ` without commas", () => {
    const { shape, problems } = parseDataset(readSharedData("gsm8k-test.jsonl"));
    expect(shape).toBe("gsm8k");
    expect(problems).toHaveLength(1319);
    expect(problems[0]?.answer).toBe("18");
    expect(problems[0]?.problem).toMatch(/^Janet/);
    expect(problems[0]?.meta.solution).toMatch(/9 \* 2 = \$<<9\*2=18>>18/);
    expect(problems.every((p) => /^-?\d+(\.\d+)?$/.test(p.answer))).toBe(true);
  });
});

describe("parseDataset", () => {
  it("removes thousands commas from GSM8K answers", () => {
    const text = line({ question: "Q?", answer: "work\n#### 1,234,567" });
    expect(parseDataset(text).problems[0]?.answer).toBe("1234567");
  });

  it("numbers rows by line when there is no id, skipping blank lines and CRLF", () => {
    const text = `\uFEFF${line({ problem: "a", answer: 1 })}\r\n\r\n${line({ problem: "b", answer: "x^2" })}\r\n`;
    const { shape, problems } = parseDataset(text);
    expect(shape).toBe("math");
    expect(problems.map((p) => [p.id, p.answer])).toEqual([
      ["1", "1"],
      ["3", "x^2"],
    ]);
  });

  it("uses a column mapping for other files", () => {
    const text = [
      line({ q: "2+2?", sol: 4, key: "a", extra: true }),
      line({ q: "3+3?", sol: "6", key: "b" }),
    ].join("\n");
    const { shape, problems } = parseDataset(text, {
      columns: { problem: "q", answer: "sol", id: "key" },
    });
    expect(shape).toBe("mapped");
    expect(problems).toEqual([
      { id: "a", problem: "2+2?", answer: "4", meta: { extra: true } },
      { id: "b", problem: "3+3?", answer: "6", meta: {} },
    ]);
  });

  it("treats question/answer rows without #### as plain answers", () => {
    const { shape, problems } = parseDataset(
      line({ question: "Capital of France?", answer: "Paris" }),
    );
    expect(shape).toBe("question-answer");
    expect(problems[0]?.answer).toBe("Paris");
  });

  it("reports every bad line with its number and never drops a row", () => {
    const text = [
      line({ problem: "ok", answer: "1", id: "a" }),
      "{not json",
      line({ problem: "no answer", id: "b" }),
      line([1, 2]),
      line({ problem: "", answer: "2", id: "c" }),
      line({ problem: "ok", answer: "3", id: 1 }),
      line({ problem: "dup", answer: "4", id: 1 }),
      line({ problem: "no id", answer: "5" }),
    ].join("\n");
    const issues = issuesOf(() => parseDataset(text));
    expect(issues.map((i) => i.line)).toEqual([2, 3, 4, 5, 7, 8]);
    expect(issues[0]?.message).toMatch(/not valid JSON/);
    expect(issues[1]?.message).toMatch(/missing field `answer`/);
    expect(issues[2]?.message).toMatch(/JSON object/);
    expect(issues[3]?.message).toMatch(/`problem` must be non-empty text/);
    expect(issues[4]?.message).toMatch(/repeats the id on line 6/);
    expect(issues[5]?.message).toMatch(/missing id field `id`/);
  });

  it("puts the line numbers in the error message", () => {
    expect(() => parseDataset(`${line({ problem: "a", answer: "1" })}\n{oops`)).toThrow(
      /line 2: not valid JSON/,
    );
  });

  it("fails a GSM8K row that lacks the #### final answer", () => {
    const text = [
      line({ question: "a", answer: "x\n#### 5" }),
      line({ question: "b", answer: "no marker" }),
    ].join("\n");
    expect(issuesOf(() => parseDataset(text))).toEqual([
      { line: 2, message: expect.stringMatching(/no `#### N`/) },
    ]);
  });

  it("explains an unknown shape and suggests a column mapping", () => {
    expect(() => parseDataset(line({ prompt: "a", target: "b" }))).toThrow(
      /`prompt`, `target`.*column mapping/s,
    );
  });

  it("fails a mapped file whose rows lack a mapped column", () => {
    const text = [line({ q: "a", a: "1" }), line({ q: "b" })].join("\n");
    const issues = issuesOf(() => parseDataset(text, { columns: { problem: "q", answer: "a" } }));
    expect(issues).toEqual([{ line: 2, message: "missing field `a`" }]);
  });

  it("refuses an empty file", () => {
    expect(() => parseDataset("\n  \n")).toThrow(/no problems/);
  });
});
