import { describe, expect, it } from "vitest";
import { parseHash, routeHref } from "../src/lib/hash-route.ts";
import { resultsUrl } from "../src/lib/experiments-api.ts";

describe("experiment routes and links", () => {
  it("reads and writes #/experiments and #/experiments/<id>", () => {
    expect(parseHash("#/experiments")).toEqual({ tab: "experiments", experimentId: null });
    expect(parseHash("#/experiments/exp%2F1")).toEqual({
      tab: "experiments",
      experimentId: "exp/1",
    });
    expect(routeHref({ tab: "experiments", experimentId: "exp/1" })).toBe("#/experiments/exp%2F1");
    expect(routeHref({ tab: "experiments", experimentId: null })).toBe("#/experiments");
    // The other tabs are unchanged.
    expect(parseHash("#/library/run-1")).toEqual({ tab: "library", runId: "run-1" });
    expect(parseHash("#/nowhere")).toEqual({ tab: "playground" });
  });

  it("downloads results from the server's export endpoints", () => {
    expect(resultsUrl("exp 1", "json")).toBe("/api/experiments/exp%201/results.json");
    expect(resultsUrl("e1", "csv-settings")).toBe("/api/experiments/e1/results.csv");
    expect(resultsUrl("e1", "csv-items")).toBe("/api/experiments/e1/results.csv?rows=items");
  });
});
