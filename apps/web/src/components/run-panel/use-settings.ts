import { useMemo } from "react";
import type { ContextRoom } from "@thinkscope/protocol";
import { useApp } from "../../store/app-store.ts";
import {
  shownSettings,
  validateSettings,
  type PlaygroundSettings,
  type SettingsProblems,
} from "../../lib/run-settings.ts";

/**
 * The run panel's settings, a setter for some of them, and what is wrong
 * with them. `shown` has the token budgets as the run would use them (fitted
 * to the model's context when left at their defaults), from the last
 * preview's counts in `room`.
 */
export function useSettings(): {
  settings: PlaygroundSettings;
  shown: PlaygroundSettings;
  room: ContextRoom | null;
  set(patch: Partial<PlaygroundSettings>): void;
  problems: SettingsProblems;
} {
  const settings = useApp((s) => s.settings);
  const room = useApp((s) => s.contextRoom);
  const refusal = useApp((s) => s.refusal);
  const set = useApp((s) => s.setSettings);
  const problems = useMemo(
    () => validateSettings(settings, room, refusal),
    [settings, room, refusal],
  );
  const shown = useMemo(() => shownSettings(settings, room), [settings, room]);
  return { settings, shown, room, set, problems };
}
