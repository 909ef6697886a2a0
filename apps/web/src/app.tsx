import { lazy, Suspense, useRef } from "react";
import { useApp } from "./store/app-store.ts";
import { routeHref, useHashRoute, type Route } from "./lib/hash-route.ts";
import { ConnectionBanner } from "./components/status/connection-banner.tsx";
import { TokenPrompt } from "./components/status/token-prompt.tsx";
import PlaygroundView from "./views/playground-view.tsx";
import type { ThemeChoice } from "./store/display-slice.ts";

// The playground is the landing view and loads with the page; the others load on first visit.
const CompareView = lazy(() => import("./views/compare-view.tsx"));
const LibraryView = lazy(() => import("./views/library-view.tsx"));
const ExperimentsView = lazy(() => import("./experiments/experiments-view.tsx"));
const LessonView = lazy(() => import("./views/lesson-view.tsx"));

const TABS: { tab: Route["tab"]; label: string }[] = [
  { tab: "playground", label: "Playground" },
  { tab: "compare", label: "Compare" },
  { tab: "library", label: "Library" },
  { tab: "experiments", label: "Experiments" },
  { tab: "lesson", label: "Lesson" },
];

/** A tab's own page (the list, not an opened item). */
function tabHref(tab: Route["tab"]): string {
  switch (tab) {
    case "library":
      return routeHref({ tab, runId: null });
    case "experiments":
      return routeHref({ tab, experimentId: null });
    case "lesson":
      return routeHref({ tab, step: 1 });
    default:
      return routeHref({ tab });
  }
}

const THEME_NEXT: Record<ThemeChoice, ThemeChoice> = {
  system: "light",
  light: "dark",
  dark: "system",
};
const THEME_LABEL: Record<ThemeChoice, string> = {
  system: "Theme: system",
  light: "Theme: light",
  dark: "Theme: dark",
};

function SocketPill() {
  const state = useApp((s) => s.socket.state);
  const text = {
    connecting: "connecting…",
    open: "connected",
    reconnecting: "reconnecting…",
    stopped: "offline",
  }[state];
  return (
    <span
      className="status-pill"
      data-state={state}
      role="status"
      aria-label={`Server connection: ${text}`}
    >
      {text}
    </span>
  );
}

function DisplayToggles() {
  const theme = useApp((s) => s.theme);
  const projector = useApp((s) => s.projector);
  const setTheme = useApp((s) => s.setTheme);
  const setProjector = useApp((s) => s.setProjector);
  return (
    <>
      <button
        type="button"
        className="small"
        onClick={() => setTheme(THEME_NEXT[theme])}
        title="Switch between system, light and dark"
      >
        {THEME_LABEL[theme]}
      </button>
      <button
        type="button"
        className="small"
        aria-pressed={projector}
        onClick={() => setProjector(!projector)}
      >
        Projector mode
      </button>
    </>
  );
}

function UrlProblems() {
  const problems = useApp((s) => s.urlProblems);
  const dismiss = useApp((s) => s.dismissUrlProblems);
  if (problems.length === 0) return null;
  return (
    <div className="banner" data-tone="warn" role="alert">
      <p>
        Parts of this link could not be used and were left at their defaults: {problems.join(" ")}
      </p>
      <button type="button" className="small" onClick={dismiss}>
        Dismiss
      </button>
    </div>
  );
}

/** The tabs as a menu, for screens too narrow for the row of tabs (CSS shows one or the other). */
function TabMenu({ current }: { current: Route["tab"] }) {
  const label = TABS.find((t) => t.tab === current)?.label ?? "Views";
  const menu = useRef<HTMLDetailsElement>(null);
  return (
    <details className="tab-menu" ref={menu}>
      <summary aria-label={`Views: ${label}`}>☰ {label}</summary>
      <nav aria-label="Views menu">
        {TABS.map(({ tab, label: text }) => (
          <a
            key={tab}
            href={tabHref(tab)}
            aria-current={current === tab ? "page" : undefined}
            onClick={() => menu.current?.removeAttribute("open")}
          >
            {text}
          </a>
        ))}
      </nav>
    </details>
  );
}

export function App() {
  const route = useHashRoute();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <span className="brand">
          <span className="brand-dot" aria-hidden="true" />
          Thinkscope
        </span>
        <TabMenu current={route.tab} />
        <nav className="tabs" aria-label="Views">
          {TABS.map(({ tab, label }) => (
            <a key={tab} href={tabHref(tab)} aria-current={route.tab === tab ? "page" : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <div className="header-tools">
          <SocketPill />
          <DisplayToggles />
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <TokenPrompt />
        <ConnectionBanner />
        <UrlProblems />
        <Suspense fallback={<p className="loading">Loading…</p>}>
          {route.tab === "playground" && <PlaygroundView />}
          {route.tab === "compare" && <CompareView />}
          {route.tab === "library" && <LibraryView runId={route.runId} />}
          {route.tab === "experiments" && <ExperimentsView experimentId={route.experimentId} />}
          {route.tab === "lesson" && <LessonView step={route.step} />}
        </Suspense>
      </main>
    </>
  );
}
