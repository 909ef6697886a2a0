import { useApp } from "../../store/app-store.ts";
import {
  validateSettings,
  type PlaygroundSettings,
  type SettingsProblems,
} from "../../lib/run-settings.ts";
import { useMemo } from "react";

/** The run panel's settings, a setter for some of them, and what is wrong with them. */
export function useSettings(): {
  settings: PlaygroundSettings;
  set(patch: Partial<PlaygroundSettings>): void;
  problems: SettingsProblems;
} {
  const settings = useApp((s) => s.settings);
  const set = useApp((s) => s.setSettings);
  const problems = useMemo(() => validateSettings(settings), [settings]);
  return { settings, set, problems };
}
