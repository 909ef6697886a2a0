import type {
  ResampleAnalysis,
  ResampleList,
  ResampleRequest,
  RunDetail,
  RunSummary,
} from "@thinkscope/protocol";
import { createJsonCall } from "./api-client.ts";

/** The trace laboratory's REST calls: a run's family, its resample analyses (docs/api.md). */
export function createLabApi(base = "") {
  const call = createJsonCall(base);
  return {
    family: (runId: string) =>
      call<{ runs: RunSummary[] }>(`/api/runs/${encodeURIComponent(runId)}/family`),
    run: (runId: string) => call<RunDetail>(`/api/runs/${encodeURIComponent(runId)}`),
    resamples: (runId: string) =>
      call<ResampleList>(`/api/runs/${encodeURIComponent(runId)}/resamples`),
    startResample: (runId: string, request: ResampleRequest) =>
      call<ResampleAnalysis>(`/api/runs/${encodeURIComponent(runId)}/resample`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(request),
      }),
    /** Server-sent snapshots of a running analysis, ending with `[DONE]`. */
    resampleEventsUrl: (id: string) => `${base}/api/resamples/${encodeURIComponent(id)}/events`,
    resampleExportUrl: (id: string) => `${base}/api/resamples/${encodeURIComponent(id)}/export`,
  };
}

export type LabApi = ReturnType<typeof createLabApi>;
