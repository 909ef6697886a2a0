import type {
  ExperimentCreate,
  ExperimentDetail,
  ExperimentList,
  ExperimentPresetInfo,
} from "@thinkscope/protocol";
import { createJsonCall, type JsonCall } from "./api-client.ts";

export interface ExperimentListQuery {
  limit?: number;
  offset?: number;
}

/** The experiments part of the HTTP API (`/api/experiments`). */
export interface ExperimentsApi {
  presets(): Promise<ExperimentPresetInfo[]>;
  list(query?: ExperimentListQuery): Promise<ExperimentList>;
  get(id: string): Promise<ExperimentDetail>;
  create(request: ExperimentCreate): Promise<ExperimentDetail>;
  cancel(id: string): Promise<ExperimentDetail>;
  resume(id: string): Promise<ExperimentDetail>;
  delete(id: string): Promise<void>;
}

const path = (id: string, rest = "") => `/api/experiments/${encodeURIComponent(id)}${rest}`;

/** Where the browser downloads an experiment's results: the server streams them with a file name. */
export function resultsUrl(
  id: string,
  kind: "json" | "csv-settings" | "csv-items",
  base = "",
): string {
  switch (kind) {
    case "json":
      return `${base}${path(id, "/results.json")}`;
    case "csv-settings":
      return `${base}${path(id, "/results.csv")}`;
    case "csv-items":
      return `${base}${path(id, "/results.csv?rows=items")}`;
  }
}

export function createExperimentsApi(call: JsonCall = createJsonCall()): ExperimentsApi {
  return {
    async presets() {
      const body = await call<{ presets: ExperimentPresetInfo[] }>("/api/experiments/presets");
      return body.presets;
    },
    list(query = {}) {
      const params = new URLSearchParams();
      if (query.limit !== undefined) params.set("limit", String(query.limit));
      if (query.offset !== undefined) params.set("offset", String(query.offset));
      const text = params.toString();
      return call(`/api/experiments${text ? `?${text}` : ""}`);
    },
    get: (id) => call(path(id)),
    create: (request) =>
      call("/api/experiments", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(request),
      }),
    cancel: (id) => call(path(id, "/cancel"), { method: "POST" }),
    resume: (id) => call(path(id, "/resume"), { method: "POST" }),
    async delete(id) {
      await call(path(id), { method: "DELETE" });
    },
  };
}
