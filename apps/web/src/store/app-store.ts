import { createContext, createElement, useContext, type ReactNode } from "react";
import { createStore, useStore, type StoreApi } from "zustand";
import { createCompareSlice, type CompareSlice } from "./compare-slice.ts";
import { createConnectionSlice, type ConnectionSlice } from "./connection-slice.ts";
import { createDisplaySlice, type DisplaySlice } from "./display-slice.ts";
import { createExperimentsSlice, type ExperimentsSlice } from "./experiments-slice.ts";
import { createLibrarySlice, type LibrarySlice } from "./library-slice.ts";
import { createRunsSlice, type RunsSlice } from "./runs-slice.ts";
import { createPreviewSlice, type PreviewSlice } from "./preview-slice.ts";
import { createMessageRouter, type MessageRouter } from "./server-messages.ts";
import { createSettingsSlice, type SettingsSlice } from "./settings-slice.ts";
import type { StoreDeps } from "./slice.ts";

export type { StoreDeps } from "./slice.ts";

/** The whole page state: one bound store built from slices (zustand's slices pattern). */
export type AppState = SettingsSlice &
  PreviewSlice &
  RunsSlice &
  CompareSlice &
  LibrarySlice &
  ConnectionSlice &
  DisplaySlice &
  ExperimentsSlice &
  MessageRouter;

export type AppStore = StoreApi<AppState>;

/**
 * One store of slices. It is created per page (and per test) rather than at
 * module scope, so tests get a fresh store with fake network parts. Each
 * slice is handed the whole store, which the typecheck holds to everything
 * the slice says it needs of the others.
 */
export function createAppStore(deps: StoreDeps, initial: Partial<AppState> = {}): AppStore {
  const store = createStore<AppState>()((...args) => ({
    ...createSettingsSlice(deps)(...args),
    ...createPreviewSlice(deps)(...args),
    ...createRunsSlice(deps)(...args),
    ...createCompareSlice(deps)(...args),
    ...createLibrarySlice(deps)(...args),
    ...createConnectionSlice(deps)(...args),
    ...createDisplaySlice(deps)(...args),
    ...createExperimentsSlice(deps)(...args),
    ...createMessageRouter(deps)(...args),
  }));
  if (Object.keys(initial).length > 0) store.setState(initial);
  return store;
}

const StoreContext = createContext<AppStore | null>(null);

export function StoreProvider({ store, children }: { store: AppStore; children: ReactNode }) {
  return createElement(StoreContext.Provider, { value: store }, children);
}

export function useAppStore(): AppStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error("useApp must be used inside <StoreProvider>.");
  return store;
}

/** Select one field (or a stable derived value) from the store; re-renders only when it changes. */
export function useApp<T>(selector: (state: AppState) => T): T {
  return useStore(useAppStore(), selector);
}
