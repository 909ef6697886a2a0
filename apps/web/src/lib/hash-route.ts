import { useSyncExternalStore } from "react";
import { lessonStep } from "./lesson.ts";

/** The page's tabs. */
export type Route =
  | { tab: "playground" }
  | { tab: "compare" }
  | { tab: "library"; runId: string | null }
  | { tab: "experiments"; experimentId: string | null }
  | { tab: "lesson"; step: number };

/**
 * Routes live in the hash (`#/compare`, `#/library/RUN_ID`, `#/experiments/ID`) so the static
 * server needs no rewrite rules and the query string stays free for settings.
 */
export function parseHash(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  switch (parts[0]) {
    case "compare":
      return { tab: "compare" };
    case "library":
      return { tab: "library", runId: parts[1] ? decodeURIComponent(parts[1]) : null };
    case "experiments":
      return {
        tab: "experiments",
        experimentId: parts[1] ? decodeURIComponent(parts[1]) : null,
      };
    case "lesson":
      return { tab: "lesson", step: lessonStep(parts[1]) };
    default:
      return { tab: "playground" };
  }
}

export function routeHref(route: Route): string {
  switch (route.tab) {
    case "playground":
      return "#/";
    case "compare":
      return "#/compare";
    case "library":
      return route.runId ? `#/library/${encodeURIComponent(route.runId)}` : "#/library";
    case "lesson":
      return `#/lesson/${route.step}`;
    case "experiments":
      return route.experimentId
        ? `#/experiments/${encodeURIComponent(route.experimentId)}`
        : "#/experiments";
  }
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("hashchange", onChange);
  return () => window.removeEventListener("hashchange", onChange);
}

const getHash = () => window.location.hash;

export function useHashRoute(): Route {
  const hash = useSyncExternalStore(subscribe, getHash, () => "");
  return parseHash(hash);
}

export function navigate(route: Route): void {
  window.location.hash = routeHref(route);
}
