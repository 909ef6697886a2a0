import { describe, expect, it } from "vitest";
import { act, fireEvent, render, screen } from "@testing-library/react";
import {
  budgetProblems,
  samplingProblems,
  type BackendInfo,
  type ExperimentPresetInfo,
} from "@thinkscope/protocol";
import {
  buildCreateRequest,
  DEFAULT_DRAFT,
  itemSummary,
  parseCountList,
  planItems,
  validateDraft,
  type ExperimentDraft,
} from "../src/lib/experiment-draft.ts";
import { ExperimentForm } from "../src/experiments/experiment-form.tsx";
import type { ExperimentsApi } from "../src/lib/experiments-api.ts";
import { previewJsonl } from "../src/lib/jsonl-preview.ts";
import type { ApiClient } from "../src/lib/api-client.ts";
import { createAppStore, StoreProvider } from "../src/store/app-store.ts";

const TINY: ExperimentPresetInfo = {
  id: "tiny-reasoner",
  title: "Tiny reasoner: forced waits and budget caps",
  description: "200 held-out problems, 8 settings, 4 samples.",
};

const draft = (patch: Partial<ExperimentDraft>): ExperimentDraft => ({
  ...DEFAULT_DRAFT,
  ...patch,
});

describe("the experiment form's item count", () => {
  it("multiplies problems, swept settings and samples", () => {
    const plan = planItems(
      draft({
        generator: { ...DEFAULT_DRAFT.generator, count: "10" },
        numWaits: "0, 1, 2",
        maxThinkingTokens: "256, 512",
        waitStrings: ["Wait", "Hmm"],
        samples: "4",
      }),
    );
    expect(plan).toMatchObject({ problems: 10, settings: 12, samples: 4, items: 480 });
    expect(itemSummary(plan)).toBe("10 problems × 12 settings × 4 samples = 480 items");
  });

  it("applies the slice: offset and limit", () => {
    const base = { generator: { ...DEFAULT_DRAFT.generator, count: "50" }, numWaits: "0" };
    expect(planItems(draft({ ...base, offset: "45" })).problems).toBe(5);
    expect(planItems(draft({ ...base, offset: "10", limit: "20" })).problems).toBe(20);
    expect(planItems(draft({ ...base, offset: "60" })).problems).toBe(0);
  });

  it("counts an upload's rows, and says 'up to' for a server file it cannot read", () => {
    const text = ['{"problem":"a","answer":1}', '{"problem":"b","answer":2}'].join("\n");
    const upload = { name: "two.jsonl", text, preview: previewJsonl(text) };
    expect(itemSummary(planItems(draft({ datasetKind: "upload", upload, numWaits: "0" })))).toBe(
      "2 problems × 1 setting × 1 sample = 2 items",
    );
    expect(itemSummary(planItems(draft({ datasetKind: "path", limit: "30" })))).toBe(
      "up to 30 problems × 3 settings × 1 sample = at most 90 items",
    );
    expect(itemSummary(planItems(draft({ datasetKind: "path" })))).toBe(
      "every problem in the file × 3 settings × 1 sample",
    );
  });

  it("leaves a preset's own numbers to the server, and counts the form's when they replace them", () => {
    // The server does not say how large a preset is (ExperimentPresetInfo).
    const preset = draft({ datasetKind: "preset", presetId: "tiny-reasoner" });
    expect(itemSummary(planItems(preset))).toBe(
      "the preset's problems × the preset's settings × the preset's samples",
    );
    expect(
      planItems({ ...preset, limit: "20", samples: "2", presetSettings: false }),
    ).toMatchObject({ problemsAtMost: 20, settings: 3, samples: 2, itemsAtMost: 120 });
  });
});

describe("the experiment form's validation", () => {
  it("accepts the defaults", () => {
    expect(validateDraft(DEFAULT_DRAFT, null)).toEqual({});
  });

  it("names the field and the problem", () => {
    expect(parseCountList("0, 1, 1, 2")).toEqual({ value: [0, 1, 2] });
    expect(parseCountList("1.5")).toEqual({ error: '"1.5" is not a whole number of 0 or more.' });
    const problems = validateDraft(
      draft({
        generator: { count: "0", digits: "13", seed: "x", kinds: [] },
        numWaits: "-1",
        minThinkingTokens: "600",
        maxThinkingTokens: "256, 512",
        waitStrings: [],
        template: "Solve it.",
        samples: "0",
        temperature: "6",
        topP: "0",
        concurrency: "300",
        limit: "0",
      }),
      null,
    );
    expect(problems).toEqual({
      count: "The count must be at least 1.",
      digits: "Digits must be at most 12.",
      generatorSeed: '"x" is not a whole number.',
      kinds: "Pick at least one kind of problem.",
      limit: "The limit must be at least 1.",
      numWaits: '"-1" is not a whole number of 0 or more.',
      // The protocol's rules, on every setting of the sweep (the first that breaks one).
      minThinkingTokens: budgetProblems({ min_thinking_tokens: 600, max_thinking_tokens: 256 })[0]!
        .message,
      waitStrings: "Pick at least one wait string.",
      template: "The template must contain {problem}, where each problem's text goes.",
      samples: "The samples per problem must be at least 1.",
      temperature: samplingProblems({ temperature: 6 })[0]!.message,
      topP: samplingProblems({ top_p: 0 })[0]!.message,
      concurrency: "Concurrency must be at most 256.",
    });
  });

  it("checks every setting of the sweep with the protocol's rules, as the server does", () => {
    const problems = validateDraft(draft({ numWaits: "0, 65", minThinkingTokens: "64" }), null);
    expect(problems).toEqual({
      numWaits: budgetProblems({ num_waits: 65 })[0]!.message,
    });
    expect(validateDraft(draft({ maxAnswerTokens: "0" }), null)).toEqual({});
  });

  it("refuses an empty slice and more items than one experiment runs", () => {
    expect(
      validateDraft(
        draft({ generator: { ...DEFAULT_DRAFT.generator, count: "5" }, offset: "5" }),
        null,
      ).offset,
    ).toMatch(/leaves no problems/);
    expect(
      validateDraft(
        draft({
          generator: { ...DEFAULT_DRAFT.generator, count: "100000" },
          numWaits: "0, 1, 2, 3, 4, 5",
          samples: "8",
        }),
        null,
      ).items,
    ).toBe(
      "4,800,000 items: one experiment runs at most 500,000. Set a limit or sweep fewer values.",
    );
  });

  it("needs a file, a readable one, and a column mapping for unknown shapes", () => {
    expect(validateDraft(draft({ datasetKind: "upload" }), null).upload).toBe(
      "Choose a JSONL file.",
    );
    const text = '{"q": "1+1", "a": "2"}';
    const upload = { name: "x.jsonl", text, preview: previewJsonl(text) };
    expect(validateDraft(draft({ datasetKind: "upload", upload }), null).columns).toMatch(
      /map the columns/,
    );
    expect(
      validateDraft(
        draft({ datasetKind: "upload", upload, columns: { problem: "q", answer: "a", id: "" } }),
        null,
      ),
    ).toEqual({});
    expect(validateDraft(draft({ datasetKind: "path" }), null).path).toBe(
      "Give the path of a JSONL file on the server.",
    );
  });

  it("refuses a preset the server does not have", () => {
    const preset = draft({ datasetKind: "preset", presetId: "tiny-reasoner" });
    expect(validateDraft(preset, []).dataset).toBe('This server has no preset "tiny-reasoner".');
    expect(validateDraft(preset, [TINY])).toEqual({});
  });
});

describe("the create request", () => {
  it("sweeps lists of two or more values and shares single values", () => {
    expect(
      buildCreateRequest(
        draft({
          name: " ablation ",
          numWaits: "2",
          maxThinkingTokens: "512, 1024",
          waitStrings: ["Wait", "Hmm", "Alternatively"],
          samples: "4",
          temperature: "0.6",
          topP: "0.95",
          seed: "7",
          concurrency: "4",
          offset: "10",
          limit: "20",
          backend: "vllm",
          model: "s1.1-32B",
        }),
      ),
    ).toEqual({
      name: "ablation",
      dataset: { generator: { seed: 0, count: 20, digits: 3, kinds: ["addition"] } },
      offset: 10,
      limit: 20,
      backend: "vllm",
      model: "s1.1-32B",
      prompt: { mode: "chat", template: DEFAULT_DRAFT.template },
      budget_forcing: { format: "think-tags", max_answer_tokens: 256, num_waits: 2 },
      sweep: { max_thinking_tokens: [512, 1024], wait_string: ["Wait", "Hmm", "Alternatively"] },
      samples: 4,
      sampling: { temperature: 0.6, top_p: 0.95, seed: 7 },
      concurrency: 4,
    });
  });

  it("sends a preset by id, with only what the user changed", () => {
    expect(
      buildCreateRequest(draft({ datasetKind: "preset", presetId: "tiny-reasoner", limit: "20" })),
    ).toEqual({ preset: "tiny-reasoner", limit: 20 });
    // Replacing the preset's settings with the form's sweep.
    expect(
      buildCreateRequest(
        draft({
          datasetKind: "preset",
          presetId: "tiny-reasoner",
          presetSettings: false,
          numWaits: "0, 6",
          maxThinkingTokens: "512",
        }),
      ),
    ).toMatchObject({
      preset: "tiny-reasoner",
      budget_forcing: { max_thinking_tokens: 512, wait_string: "Wait" },
      sweep: { num_waits: [0, 6] },
    });
  });

  it("sends an upload's text with its name and column mapping", () => {
    const text = '{"q": "1+1", "a": "2"}';
    const request = buildCreateRequest(
      draft({
        datasetKind: "upload",
        upload: { name: "mine.jsonl", text, preview: previewJsonl(text) },
        columns: { problem: "q", answer: "a", id: "" },
      }),
    );
    expect(request.dataset).toEqual({
      jsonl: text,
      name: "mine.jsonl",
      columns: { problem: "q", answer: "a" },
    });
  });
});

const backend: BackendInfo = {
  id: "embedded",
  kind: "embedded",
  models: ["tiny-reasoner"],
  default: true,
  capabilities: {
    exactTokenIds: true,
    tokenIdPrompts: true,
    stopTokenIds: true,
    logprobs: false,
    tokenizer: true,
    persistentSequence: true,
  },
  readiness: { state: "ready" },
};

function mountForm(presets: ExperimentPresetInfo[] = [TINY]) {
  const api: ExperimentsApi = {
    presets: async () => presets,
    list: async () => ({ experiments: [], total: 0 }),
    get: async () => {
      throw new Error("not used");
    },
    create: async () => {
      throw new Error("not used");
    },
    cancel: async () => {
      throw new Error("not used");
    },
    resume: async () => {
      throw new Error("not used");
    },
    delete: async () => {},
  };
  const store = createAppStore({
    api: {} as ApiClient,
    experiments: api,
    send: () => true,
    reconnect: () => {},
    now: () => 0,
  });
  store.setState({ backends: [backend], socket: { state: "open", attempt: 0, retryInMs: null } });
  render(
    <StoreProvider store={store}>
      <ExperimentForm />
    </StoreProvider>,
  );
  return store;
}

describe("the experiment form", () => {
  it("starts on the tiny-reasoner preset and shows how many items it runs", async () => {
    const store = mountForm();
    await act(() => store.getState().loadExperimentPresets());
    expect((screen.getByRole("radio", { name: "Preset" }) as HTMLInputElement).checked).toBe(true);
    expect((screen.getByRole("combobox", { name: "Preset" }) as HTMLSelectElement).value).toBe(
      "tiny-reasoner",
    );
    expect(screen.getByTestId("experiment-item-count").textContent).toBe(
      "the preset's problems × the preset's settings × the preset's samples",
    );
    // The preset brings its own prompt; its fields are not shown.
    expect(screen.queryByLabelText("Prompt template")).toBeNull();

    fireEvent.change(screen.getByLabelText("Take at most (limit)"), { target: { value: "20" } });
    expect(screen.getByTestId("experiment-item-count").textContent).toBe(
      "up to 20 problems × the preset's settings × the preset's samples",
    );
    expect(
      (screen.getByRole("button", { name: /Start experiment/ }) as HTMLButtonElement).disabled,
    ).toBe(false);
  });

  it("updates the count as sweeps are typed, and blocks Start with the reason beside it", async () => {
    const store = mountForm([]);
    await act(() => store.getState().loadExperimentPresets());
    expect((screen.getByRole("radio", { name: "Generated" }) as HTMLInputElement).checked).toBe(
      true,
    );
    expect(screen.getByTestId("experiment-item-count").textContent).toBe(
      "20 problems × 3 settings × 1 sample = 60 items",
    );
    fireEvent.click(screen.getByRole("checkbox", { name: "Hmm" }));
    expect(screen.getByTestId("experiment-item-count").textContent).toBe(
      "20 problems × 6 settings × 1 sample = 120 items",
    );
    expect(store.getState().experimentDraft.waitStrings).toEqual(["Wait", "Hmm"]);

    const waits = screen.getByLabelText("num_waits");
    fireEvent.change(waits, { target: { value: "0, two" } });
    expect(waits.getAttribute("aria-invalid")).toBe("true");
    expect(screen.getAllByText('"two" is not a whole number of 0 or more.')).toHaveLength(2);
    expect(
      (screen.getByRole("button", { name: /Start experiment/ }) as HTMLButtonElement).disabled,
    ).toBe(true);
  });
});
