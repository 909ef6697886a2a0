import type { AppStore } from "../store/app-store.ts";
import type { ThemeChoice } from "../store/display-slice.ts";
import type { ShadeBy } from "./trace-fold.ts";
import { parseHash } from "./hash-route.ts";
import { encodeSettings } from "./settings-url.ts";

/** Writing the URL on every keystroke would be wasted work: settle first. */
export const URL_WRITE_DELAY_MS = 300;
const DISPLAY_KEY = "thinkscope.display";

/** The tabs the run settings and the ladder belong to; other tabs' links carry none. */
const SETTINGS_TABS: ReadonlySet<string> = new Set(["playground", "compare"]);
const onSettingsTab = (win: Window) => SETTINGS_TABS.has(parseHash(win.location.hash).tab);

/**
 * Keeps the query string in step with the settings and the ladder on the
 * tabs that use them, with `replaceState` (a settings change is not a page
 * to go back to). A link to a run in the library or to an experiment
 * carries no settings; back on the playground they are written again.
 */
export function syncSettingsToUrl(store: AppStore, win: Window = window): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const write = () => {
    timer = null;
    const { settings, ladder } = store.getState();
    const query = onSettingsTab(win) ? encodeSettings(settings, ladder).toString() : "";
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
  win.addEventListener("hashchange", write);
  if (!onSettingsTab(win)) write();
  return () => {
    unsubscribe();
    win.removeEventListener("hashchange", write);
    if (timer !== null) clearTimeout(timer);
  };
}

export function readDisplayPrefs(storage: Storage | undefined): {
  theme: ThemeChoice;
  projector: boolean;
  shading: boolean;
  shadeBy: ShadeBy;
} {
  try {
    const saved = JSON.parse(storage?.getItem(DISPLAY_KEY) ?? "{}") as {
      theme?: unknown;
      projector?: unknown;
      shading?: unknown;
      shadeBy?: unknown;
    };
    const theme = saved.theme === "light" || saved.theme === "dark" ? saved.theme : "system";
    return {
      theme,
      projector: saved.projector === true,
      shading: saved.shading === true,
      shadeBy: saved.shadeBy === "entropy" ? "entropy" : "pressure",
    };
  } catch {
    return { theme: "system", projector: false, shading: false, shadeBy: "pressure" };
  }
}

/** Applies the theme and projector mode to <html> and remembers them. */
export function syncDisplay(
  store: AppStore,
  root: HTMLElement,
  storage: Storage | undefined,
): () => void {
  const apply = () => {
    const { theme, projector, shading, shadeBy } = store.getState();
    if (theme === "system") delete root.dataset.theme;
    else root.dataset.theme = theme;
    root.dataset.projector = String(projector);
    try {
      storage?.setItem(DISPLAY_KEY, JSON.stringify({ theme, projector, shading, shadeBy }));
    } catch {
      // Private mode or a full quota: the choice just is not remembered.
    }
  };
  apply();
  return store.subscribe((state, previous) => {
    if (
      state.theme !== previous.theme ||
      state.projector !== previous.projector ||
      state.shading !== previous.shading ||
      state.shadeBy !== previous.shadeBy
    )
      apply();
  });
}
