import type { AppStore } from "../store/app-store.ts";
import type { ThemeChoice } from "../store/display-slice.ts";
import { encodeSettings } from "./settings-url.ts";

/** Writing the URL on every keystroke would be wasted work: settle first. */
export const URL_WRITE_DELAY_MS = 300;
const DISPLAY_KEY = "thinkscope.display";

/**
 * Keeps the query string in step with the settings and the ladder, with
 * `replaceState` (a settings change is not a page to go back to).
 */
export function syncSettingsToUrl(store: AppStore, win: Window = window): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const write = () => {
    timer = null;
    const { settings, ladder } = store.getState();
    const query = encodeSettings(settings, ladder).toString();
    const { pathname, hash, search } = win.location;
    const next = query ? `?${query}` : "";
    if (next !== search)
      win.history.replaceState(win.history.state, "", `${pathname}${next}${hash}`);
  };
  const unsubscribe = store.subscribe((state, previous) => {
    if (state.settings === previous.settings && state.ladder === previous.ladder) return;
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(write, URL_WRITE_DELAY_MS);
  });
  return () => {
    unsubscribe();
    if (timer !== null) clearTimeout(timer);
  };
}

export function readDisplayPrefs(storage: Storage | undefined): {
  theme: ThemeChoice;
  projector: boolean;
  shading: boolean;
} {
  try {
    const saved = JSON.parse(storage?.getItem(DISPLAY_KEY) ?? "{}") as {
      theme?: unknown;
      projector?: unknown;
      shading?: unknown;
    };
    const theme = saved.theme === "light" || saved.theme === "dark" ? saved.theme : "system";
    return { theme, projector: saved.projector === true, shading: saved.shading === true };
  } catch {
    return { theme: "system", projector: false, shading: false };
  }
}

/** Applies the theme and projector mode to <html> and remembers them. */
export function syncDisplay(
  store: AppStore,
  root: HTMLElement,
  storage: Storage | undefined,
): () => void {
  const apply = () => {
    const { theme, projector, shading } = store.getState();
    if (theme === "system") delete root.dataset.theme;
    else root.dataset.theme = theme;
    root.dataset.projector = String(projector);
    try {
      storage?.setItem(DISPLAY_KEY, JSON.stringify({ theme, projector, shading }));
    } catch {
      // Private mode or a full quota: the choice just is not remembered.
    }
  };
  apply();
  return store.subscribe((state, previous) => {
    if (
      state.theme !== previous.theme ||
      state.projector !== previous.projector ||
      state.shading !== previous.shading
    )
      apply();
  });
}
