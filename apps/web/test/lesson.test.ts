import { describe, expect, it } from "vitest";
import { parseHash, routeHref } from "../src/lib/hash-route.ts";
import { LESSON, LESSON_CAP, lessonStep } from "../src/lib/lesson.ts";
import { DEFAULT_SETTINGS, type PlaygroundSettings } from "../src/lib/run-settings.ts";

const settingsOf = (index: number, from: PlaygroundSettings = DEFAULT_SETTINGS) => {
  const action = LESSON[index]!.action;
  if (action.kind !== "run") throw new Error(`step ${index + 1} is not a run`);
  return action.settings(from);
};

describe("the lesson", () => {
  it("runs the bundled model's task greedily: no wait, two waits, then two waits under a cap", () => {
    // Whatever the playground held before, each run step sets what it shows.
    const edited = { ...DEFAULT_SETTINGS, prompt: "Count to ten.", numWaits: 5, temperature: 1 };
    for (const from of [DEFAULT_SETTINGS, edited]) {
      const [plain, waits, capped] = [0, 1, 2].map((i) => settingsOf(i, from));
      for (const s of [plain, waits, capped]) {
        expect(s!.prompt).toBe("What is 3891 + 1464?");
        expect(s!.temperature).toBe(0);
      }
      expect(plain!.numWaits).toBe(0);
      expect(waits!.numWaits).toBe(2);
      expect(capped!.numWaits).toBe(2);
      expect(capped!.maxThinkingTokens).toBe(LESSON_CAP);
    }
  });

  it("starts the three experiment presets in the order of the argument", () => {
    expect(LESSON.slice(3).map((step) => step.action)).toEqual([
      { kind: "experiment", preset: "s1-curve" },
      { kind: "experiment", preset: "sequential-vs-parallel" },
      { kind: "experiment", preset: "rl-vs-base" },
    ]);
  });

  it("keeps a linked step inside the lesson", () => {
    expect(parseHash("#/lesson")).toEqual({ tab: "lesson", step: 1 });
    expect(parseHash("#/lesson/4")).toEqual({ tab: "lesson", step: 4 });
    expect(parseHash("#/lesson/99")).toEqual({ tab: "lesson", step: LESSON.length });
    expect(parseHash("#/lesson/0")).toEqual({ tab: "lesson", step: 1 });
    expect(parseHash("#/lesson/x")).toEqual({ tab: "lesson", step: 1 });
    expect(lessonStep("-3")).toBe(1);
    // Other spellings of a step link land on a step of the lesson, never on a missing one.
    for (const hash of [
      "#lesson/3",
      "#/lesson/3/",
      "#/lesson/3/extra",
      "#/lesson/%33",
      "#/lesson/1e9",
      "#/lesson/NaN",
    ]) {
      const route = parseHash(hash);
      expect(route.tab, hash).toBe("lesson");
      const step = route.tab === "lesson" ? route.step : 0;
      expect(
        step >= 1 && step <= LESSON.length && Number.isInteger(step),
        `${hash} -> ${step}`,
      ).toBe(true);
    }
    expect(routeHref({ tab: "lesson", step: 3 })).toBe("#/lesson/3");
  });
});
