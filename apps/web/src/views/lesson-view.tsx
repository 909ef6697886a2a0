import { useEffect } from "react";
import { isBundledModel } from "../lib/bundled-model.ts";
import { navigate, routeHref } from "../lib/hash-route.ts";
import { LESSON, type LessonStep } from "../lib/lesson.ts";
import { DEFAULT_DRAFT } from "../lib/experiment-draft.ts";
import { useApp, useAppStore } from "../store/app-store.ts";
import { selectedBackend } from "../store/selectors.ts";

/**
 * The lesson, one step at a time: a sentence to read out, what to point at,
 * and a button that runs the step (a playground run, or an experiment
 * preset) and goes to where it shows. Made for the front of a room: large
 * type, one thing on screen, Previous and Next.
 */
export default function LessonView({ step }: { step: number }) {
  const store = useAppStore();
  const current = LESSON[step - 1]!;
  const presets = useApp((s) => s.experimentPresets);
  const onBundledModel = useApp((s) => isBundledModel(s.settings, selectedBackend(s)));
  const busy = useApp((s) => s.experimentBusy !== null);
  const error = useApp((s) => s.experimentError);

  useEffect(() => {
    if (presets === null) void store.getState().loadExperimentPresets();
  }, [presets, store]);

  const run = async (action: LessonStep["action"]) => {
    const state = store.getState();
    if (action.kind === "run") {
      state.replaceSettings(action.settings(state.settings));
      navigate({ tab: "playground" });
      store.getState().runPlayground();
      return;
    }
    state.setExperimentDraft({
      ...DEFAULT_DRAFT,
      datasetKind: "preset",
      datasetTouched: true,
      presetId: action.preset,
      presetSettings: true,
    });
    const id = await store.getState().createExperiment();
    if (id) navigate({ tab: "experiments", experimentId: id });
  };

  const wantedPreset = current.action.kind === "experiment" ? current.action.preset : null;
  const unknownPreset =
    wantedPreset !== null && presets !== null && !presets.some((p) => p.id === wantedPreset);

  return (
    <section className="lesson" aria-labelledby="lesson-title">
      <ol className="lesson-steps" aria-label="Steps">
        {LESSON.map((item, index) => (
          <li key={item.title}>
            <a
              href={routeHref({ tab: "lesson", step: index + 1 })}
              aria-current={index + 1 === step ? "step" : undefined}
            >
              {index + 1}. {item.title}
            </a>
          </li>
        ))}
      </ol>
      <article className="panel lesson-card">
        <p className="lesson-count">
          Step {step} of {LESSON.length}
        </p>
        <h2 id="lesson-title">{current.title}</h2>
        <p className="lesson-say">{current.say}</p>
        <p className="lesson-look">
          <strong>Look for:</strong> {current.look}
        </p>
        {!onBundledModel && current.action.kind === "run" && (
          <p className="hint" role="note">
            This step is written for the bundled tiny reasoner: pick it in the playground&apos;s
            Backend list (it adds numbers only).
          </p>
        )}
        {unknownPreset && (
          <p className="hint" role="note">
            This server has no &quot;{wantedPreset}&quot; preset.
          </p>
        )}
        {error && current.action.kind === "experiment" && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="lesson-actions">
          <button
            type="button"
            className="primary"
            disabled={busy || unknownPreset || (wantedPreset !== null && !presets)}
            onClick={() => void run(current.action)}
          >
            {current.action.kind === "run" ? "Run it" : "Start the experiment"}
          </button>
          <a
            className="button"
            aria-disabled={step === 1}
            href={routeHref({ tab: "lesson", step: Math.max(1, step - 1) })}
          >
            Previous
          </a>
          <a
            className="button"
            aria-disabled={step === LESSON.length}
            href={routeHref({ tab: "lesson", step: Math.min(LESSON.length, step + 1) })}
          >
            Next
          </a>
        </div>
      </article>
    </section>
  );
}
