/** The runs API over HTTP: list, search, get, delete, export and import. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScriptPerRun, THINK_PROMPT, buildTestApp, type TestApp } from "./helpers.ts";

const backend = new ScriptPerRun("thinker", {
  replies: ["Count the apples.</think>", "Seven apples."],
});

let server: TestApp;
let other: TestApp;

beforeAll(async () => {
  server = await buildTestApp({ backends: [backend] });
  other = await buildTestApp({ backends: [backend] });
  for (const prompt of ["How many apples?", "How many pears?", "Name a colour"]) {
    const response = await server.app.inject({
      method: "POST",
      url: "/v1/chat/completions",
      payload: { messages: [{ role: "user", content: prompt }], budget_forcing: {} },
    });
    expect(response.statusCode).toBe(200);
  }
});
afterAll(async () => {
  await server.close();
  await other.close();
});

describe("listing and reading runs", () => {
  it("lists newest first with a total, searches, filters and pages", async () => {
    const all = (await server.app.inject({ url: "/api/runs" })).json();
    expect(all.total).toBe(3);
    expect(all.runs.map((r: { prompt: string }) => r.prompt)).toEqual([
      "Name a colour",
      "How many pears?",
      "How many apples?",
    ]);
    expect(all.runs[0]).toMatchObject({
      status: "completed",
      source: "api",
      model: "thinker-model",
      answer: "Seven apples.",
    });

    const pears = (await server.app.inject({ url: "/api/runs?q=pear" })).json();
    expect(pears.runs.map((r: { prompt: string }) => r.prompt)).toEqual(["How many pears?"]);
    const page = (
      await server.app.inject({
        url: "/api/runs?limit=1&offset=1&status=completed&model=thinker-model",
      })
    ).json();
    expect(page).toMatchObject({ total: 3, runs: [{ prompt: "How many pears?" }] });
  });

  it("takes only whole numbers as limit and offset", async () => {
    for (const query of ["limit=1.5", "offset=0.5", "limit=abc", "offset=-1"]) {
      const response = await server.app.inject({ url: `/api/runs?${query}` });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe("invalid_request");
    }
    const fraction = await server.app.inject({ url: "/api/runs?limit=1.5" });
    expect(fraction.json().error.message).toBe("querystring/limit must be an integer");
    expect(
      (await server.app.inject({ url: "/api/runs?limit=2&offset=1" })).json().runs,
    ).toHaveLength(2);
  });

  it("gets one run with its rendered prompt, text and events", async () => {
    const [first] = (await server.app.inject({ url: "/api/runs?q=colour" })).json().runs;
    const detail = (await server.app.inject({ url: `/api/runs/${first.id}` })).json();
    expect(detail).toMatchObject({
      id: first.id,
      renderedPrompt: "<|im_start|>user\nName a colour<|im_end|>\n<|im_start|>assistant\n<think>\n",
      text: "Count the apples.</think>Seven apples.",
    });
    expect(detail.events.map((e: { type: string }) => e.type)).toContain("injection");
    expect(detail.events.at(-1)).toMatchObject({ type: "run.finished", finishReason: "stop" });
  });
});

describe("export and import", () => {
  it("exports JSONL that imports elsewhere, ids kept, and again with new ids", async () => {
    const exported = await server.app.inject({ url: "/api/runs/export" });
    expect(exported.headers["content-type"]).toContain("application/x-ndjson");
    expect(exported.headers["content-disposition"]).toMatch(
      /attachment; filename="thinkscope-runs-.*\.jsonl"/,
    );
    const lines = exported.body.trim().split("\n");
    expect(lines).toHaveLength(3);

    const send = () =>
      other.app.inject({
        method: "POST",
        url: "/api/runs/import",
        headers: { "content-type": "application/x-ndjson" },
        payload: exported.body,
      });
    expect((await send()).json()).toEqual({ imported: 3, renamed: [] });
    for (const line of lines) {
      const run = JSON.parse(line);
      expect((await other.app.inject({ url: `/api/runs/${run.id}` })).json()).toEqual(run);
    }
    const again = (await send()).json();
    expect(again.imported).toBe(3);
    expect(again.renamed).toHaveLength(3);
    expect((await other.app.inject({ url: "/api/runs?q=apples" })).json().total).toBe(6);
  });

  it("refuses a bad file whole with the line numbers", async () => {
    const before = (await other.app.inject({ url: "/api/runs" })).json().total;
    const response = await other.app.inject({
      method: "POST",
      url: "/api/runs/import",
      headers: { "content-type": "application/x-ndjson" },
      payload: '{"id": "run_1"}\nnot json\n',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe("invalid_import");
    expect(response.json().error.message).toMatch(
      /^Nothing was imported: 2 of 2 lines .* line 1: the run must have required properties .*; line 2: not JSON/,
    );
    expect((await other.app.inject({ url: "/api/runs" })).json().total).toBe(before);
  });

  it("exports only what a filter selects", async () => {
    const body = (await server.app.inject({ url: "/api/runs/export?q=pears" })).body;
    expect(
      body
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line).prompt),
    ).toEqual(["How many pears?"]);
  });
});

describe("deleting runs", () => {
  it("deletes a run, then answers 404 for it", async () => {
    const [run] = (await server.app.inject({ url: "/api/runs?q=pears" })).json().runs;
    const deleted = await server.app.inject({ method: "DELETE", url: `/api/runs/${run.id}` });
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe("");
    expect((await server.app.inject({ url: `/api/runs/${run.id}` })).statusCode).toBe(404);
    expect(
      (await server.app.inject({ method: "DELETE", url: `/api/runs/${run.id}` })).statusCode,
    ).toBe(404);
  });

  it("refuses to delete a run that is still streaming", async () => {
    const slow = server.app.runService;
    const run = await slow.start({ prompt: THINK_PROMPT, mode: "raw", source: "cli" });
    const response = await server.app.inject({ method: "DELETE", url: `/api/runs/${run.id}` });
    expect(response.statusCode).toBe(409);
    expect(response.json().error.code).toBe("run_running");
    run.abort("aborted");
    expect(await run.done).toBe("aborted");
    expect(
      (await server.app.inject({ method: "DELETE", url: `/api/runs/${run.id}` })).statusCode,
    ).toBe(204);
  });
});
