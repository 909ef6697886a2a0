import { useSettings } from "./use-settings.ts";

/** The bundled model's file name, as the embedded backend lists it. */
export const TINY_REASONER_MODEL = "tiny-reasoner";

/**
 * Says plainly what the bundled tiny model can and cannot do, offers its task
 * as a prompt, and says how to get a real reasoning model.
 */
export function TinyReasonerNote() {
  const { set } = useSettings();
  return (
    <div className="hint tiny-reasoner-note" data-testid="tiny-reasoner-note">
      <p>
        <strong>Tiny reasoner</strong>: Thinkscope&apos;s own 1M-parameter model, trained on a CPU.
        It can only add two 3–4 digit numbers asked as <q>What is A + B?</q>. Left alone it stops
        after a quick sum that forgets every carry; each forced <q>Wait</q> makes it re-add the
        columns and fix the first wrong one, so a sum with two carries needs two waits. That is
        budget forcing at work.
      </p>
      <button
        type="button"
        onClick={() =>
          set({
            prompt: "What is 3891 + 1464?",
            mode: "chat",
            numWaits: 2,
            minThinkingTokens: 0,
            // Its context holds 1,024 tokens; one check takes about 100.
            maxThinkingTokens: 512,
            maxAnswerTokens: 64,
          })
        }
      >
        Try its task with two forced waits
      </button>
      <p>
        For a real reasoning model, set{" "}
        <code>THINKSCOPE_MODEL=hf:unsloth/Qwen3-0.6B-GGUF:Q8_0</code> (downloaded on first use,
        about 640 MB) or point <code>THINKSCOPE_BACKEND</code> at a vLLM server (docs/deploy.md).
      </p>
    </div>
  );
}
