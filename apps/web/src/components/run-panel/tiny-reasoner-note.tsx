import { useApp } from "../../store/app-store.ts";
import { selectedBackend } from "../../store/selectors.ts";
import { bundledModelStart, isBundledModel } from "../../lib/bundled-model.ts";
import { useSettings } from "./use-settings.ts";

/**
 * Says plainly what the bundled tiny model can and cannot do, offers its task
 * with the s1 preset, and says how to get a real reasoning model. Shown at the
 * top of the panel while that model is selected: it is the first thing a
 * newcomer needs to read.
 */
export function TinyReasonerNote() {
  const { settings, set } = useSettings();
  const backend = useApp(selectedBackend);
  if (!backend || !isBundledModel(settings, backend)) return null;
  return (
    <div className="hint tiny-reasoner-note" data-testid="tiny-reasoner-note">
      <p>
        <strong>Tiny reasoner</strong>: Thinkscope&apos;s own 1M-parameter model, trained on a CPU.
        It can only add two 3–4 digit numbers asked as <q>What is A + B?</q>. Left alone it stops
        after a quick sum that forgets every carry; each forced <q>Wait</q> makes it re-add the
        columns and fix the first wrong one, so a sum with two carries needs two waits. That is
        budget forcing at work.
      </p>
      <button type="button" className="small" onClick={() => set(bundledModelStart(settings))}>
        Try its task with the s1 preset (two forced waits)
      </button>
      <p>
        For a real reasoning model, set{" "}
        <code>THINKSCOPE_MODEL=hf:unsloth/Qwen3-0.6B-GGUF:Q8_0</code> (downloaded on first use,
        about 640 MB) or point <code>THINKSCOPE_BACKEND</code> at a vLLM server (docs/deploy.md).
      </p>
    </div>
  );
}
