import { ApiError } from "../lib/api-client.ts";
import { toRunSpec, validateSettings } from "../lib/run-settings.ts";
import type { ConnectionState, PreviewState, SettingsState, SliceCreator } from "./slice.ts";

/** A preview per keystroke would be wasted work: settle first. */
export const PREVIEW_DELAY_MS = 300;

export type PreviewSlice = PreviewState;

/**
 * Keeps the counts the panel's budgets are fitted to: 300 ms after the
 * settings (or the backends: a model may have loaded) change, it asks the
 * server for the preview of the run the panel would send (`POST
 * /api/runs/preview`), and drops any answer a newer request has overtaken.
 * Budgets are fitted on the page with the same counts and the same rule as
 * the server, so moving a slider needs no round trip.
 */
export const createPreviewSlice: SliceCreator<PreviewSlice, SettingsState & ConnectionState> =
  (deps) => (set, get, api) => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    let inFlight: AbortController | null = null;

    const preview = async () => {
      timer = null;
      inFlight?.abort();
      const { settings } = get();
      // The server would refuse these before counting anything; the panel already says why.
      if (Object.keys(validateSettings(settings)).length > 0) return;
      const controller = new AbortController();
      inFlight = controller;
      const spec = toRunSpec(settings);
      try {
        const preview = await deps.api.preview(spec, controller.signal);
        if (controller.signal.aborted) return;
        const { promptTokens, contextLength, closeTokens } = preview;
        set({
          contextRoom: contextLength === null ? null : { contextLength, promptTokens, closeTokens },
          refusal: null,
        });
      } catch (error) {
        if (controller.signal.aborted) return;
        // A 400 is the server refusing these settings; other failures (server down, model
        // loading) say nothing about them.
        if (error instanceof ApiError && error.status === 400) {
          set({
            refusal: { spec: JSON.stringify(spec), code: error.code, message: error.message },
          });
        }
      }
    };

    api.subscribe((state, previous) => {
      if (state.settings === previous.settings && state.backends === previous.backends) return;
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => void preview(), PREVIEW_DELAY_MS);
    });

    return { contextRoom: null, refusal: null };
  };
