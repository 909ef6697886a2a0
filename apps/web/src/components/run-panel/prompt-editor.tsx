import { useId } from "react";
import { SegmentedChoice } from "../segmented-choice.tsx";
import { useSettings } from "./use-settings.ts";

const PROMPT_MODES = [
  { value: "chat", label: "Chat" },
  { value: "raw", label: "Raw" },
] as const;

/** The prompt, as a chat message (the server applies the model's template) or raw text sent as is. */
export function PromptEditor() {
  const { settings, set, problems } = useSettings();
  const id = useId();
  return (
    <fieldset>
      <legend>Prompt</legend>
      <div className="field">
        <SegmentedChoice
          label="Prompt mode"
          options={PROMPT_MODES}
          value={settings.mode}
          onChange={(mode) => set({ mode })}
        />
        <span className="hint">
          {settings.mode === "chat"
            ? "A user message; the server applies the model's chat template."
            : "Sent exactly as written: end it where the model starts thinking (e.g. with <think>)."}
        </span>
      </div>
      <div className="field">
        <label htmlFor={`${id}-prompt`}>
          {settings.mode === "chat" ? "Question" : "Raw prompt"}
        </label>
        <textarea
          id={`${id}-prompt`}
          rows={settings.mode === "chat" ? 4 : 8}
          value={settings.prompt}
          spellCheck={settings.mode === "chat"}
          aria-invalid={problems.prompt ? true : undefined}
          onChange={(event) => set({ prompt: event.target.value })}
        />
        {problems.prompt && <span className="problem">{problems.prompt}</span>}
      </div>
    </fieldset>
  );
}
