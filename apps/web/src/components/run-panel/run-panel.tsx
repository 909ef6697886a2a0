import type { ReactNode } from "react";
import { BackendPicker } from "./backend-picker.tsx";
import { BudgetFields } from "./budget-fields.tsx";
import { FormatFields } from "./format-fields.tsx";
import { PresetPicker } from "./preset-picker.tsx";
import { PromptEditor } from "./prompt-editor.tsx";
import { SamplingFields } from "./sampling-fields.tsx";
import { TinyReasonerNote } from "./tiny-reasoner-note.tsx";

/**
 * Every setting of a run. Shared by the playground and the compare view,
 * which differ only in their actions (Run/Stop vs. Run ladder).
 */
export function RunPanel({ actions, extra }: { actions: ReactNode; extra?: ReactNode }) {
  return (
    <form
      className="panel run-panel"
      aria-label="Run settings"
      onSubmit={(event) => event.preventDefault()}
    >
      <TinyReasonerNote />
      <PromptEditor />
      {extra}
      <PresetPicker />
      <BudgetFields />
      <FormatFields />
      <BackendPicker />
      <SamplingFields />
      <div className="run-actions">{actions}</div>
    </form>
  );
}
