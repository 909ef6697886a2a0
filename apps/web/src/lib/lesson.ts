/**
 * The lesson: the s1 story and Yue et al.'s argument in six steps, each a
 * sentence to read out, what to point at, and one button that runs it on
 * the bundled tiny reasoner (offline). The first three are playground runs;
 * the last three are experiment presets of a couple of minutes each.
 */
import { bundledModelStart } from "./bundled-model.ts";
import type { PlaygroundSettings } from "./run-settings.ts";

export type LessonAction =
  | { kind: "run"; settings(current: PlaygroundSettings): PlaygroundSettings }
  | { kind: "experiment"; preset: string };

export interface LessonStep {
  title: string;
  /** The sentence to read to the room. */
  say: string;
  /** What to point at once it runs. */
  look: string;
  action: LessonAction;
}

/**
 * The bundled model's question with the s1 preset (greedy, two waits, budgets
 * left for the server to fit to the model's context), changed by `then`.
 */
function onTheTask(then: (settings: PlaygroundSettings) => PlaygroundSettings = (s) => s) {
  return (current: PlaygroundSettings) => then(bundledModelStart(current));
}

/** Room for the quick pass (about 70 tokens) and part of one check, not all of it. */
export const LESSON_CAP = 120;

export const LESSON: readonly LessonStep[] = [
  {
    title: "Let it think",
    say:
      "A reasoning model writes its thinking before it answers. Ask this tiny model for a sum and let it " +
      "stop when it likes: it writes a quick pass that forgets every carry, closes its thinking, and answers.",
    look: 'The green "model closed" mark, where it chose to stop, and the answer\'s badge: wrong.',
    // The s1 setup (greedy, budgets fitted by the server) with no waits: the model decides.
    action: { kind: "run", settings: onTheTask((s) => ({ ...s, numWaits: 0 })) },
  },
  {
    title: "Make it wait",
    say:
      'Now do what the s1 paper does: when the model tries to stop, drop its end of thinking and append "Wait". ' +
      "It re-adds the columns and fixes the first wrong one; a second Wait fixes the next.",
    look: "The two Wait marks in the text and on the chart, each check after them, and the right answer.",
    action: { kind: "run", settings: onTheTask() },
  },
  {
    title: "Cut it short",
    say:
      `Budget forcing also works the other way: past a budget, force the end of thinking and make it answer. ` +
      `With ${LESSON_CAP} thinking tokens it is cut off in the middle of its check.`,
    look: "The red forced close: the answer comes from wherever the thinking had got to.",
    action: {
      kind: "run",
      settings: onTheTask((s) => ({ ...s, maxThinkingTokens: LESSON_CAP })),
    },
  },
  {
    title: "The curve",
    say:
      "Over many problems: accuracy rises with each Wait allowed, by less each time, then flattens. " +
      "That is the s1 paper's scaling figure, made in about two minutes on this computer.",
    look: "The accuracy line over thinking tokens, and the s1 metrics: Control, Scaling, Performance.",
    action: { kind: "experiment", preset: "s1-curve" },
  },
  {
    title: "Longer or more?",
    say:
      "Spend the same tokens two ways: think longer with forced waits, or sample several quick answers " +
      "and take the majority vote. The s1 paper found thinking longer ahead at equal cost.",
    look: "The two curves in the sequential-against-parallel figure, each point at its token cost.",
    action: { kind: "experiment", preset: "sequential-vs-parallel" },
  },
  {
    title: "What RL adds",
    say:
      "Yue et al.: a model sharpened by reinforcement learning is right more often in one try, but given " +
      "many tries its base model solves more problems. The sharpening found paths the base already had, and lost some.",
    look: "pass@k for the two models: the twin ahead at k = 1, the base catching up where the curves cross.",
    action: { kind: "experiment", preset: "rl-vs-base" },
  },
];

/** A step number from a link, kept within the lesson (1-based). */
export function lessonStep(value: string | undefined): number {
  const step = Number.parseInt(value ?? "", 10);
  if (!Number.isFinite(step)) return 1;
  return Math.min(Math.max(step, 1), LESSON.length);
}
