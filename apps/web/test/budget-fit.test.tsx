/**
 * The page fits budgets left at their defaults exactly as the API does: with
 * the preview's counts (`POST /api/runs/preview`) through the protocol's
 * `fitToContext`, and sends them left out so the server fits them the same
 * way (apps/server/test/run-preview.test.ts checks the server's side).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/react";
import {
  fitToContext,
  type BackendInfo,
  type ClientMessage,
  type RunPreview,
  type RunSpec,
} from "@thinkscope/protocol";
import { ApiError, type ApiClient } from "../src/lib/api-client.ts";
import { shownSettings, validateSettings } from "../src/lib/run-settings.ts";
import { createAppStore, StoreProvider } from "../src/store/app-store.ts";
import { PREVIEW_DELAY_MS } from "../src/store/preview-slice.ts";
import PlaygroundView from "../src/views/playground-view.tsx";

/** The bundled tiny reasoner: a 1,024-token context. */
const TINY_CONTEXT = 1024;
const PROMPT_TOKENS = 163;

const backend: BackendInfo = {
  id: "local",
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
    contextLength: TINY_CONTEXT,
  },
  readiness: { state: "ready" },
};

/** The preview's answer; only the counts matter to the page. */
const answer = (promptTokens = PROMPT_TOKENS): RunPreview =>
  ({
    renderedPrompt: "",
    promptTokens,
    promptTokensExact: true,
    contextLength: TINY_CONTEXT,
  }) as RunPreview;

function harness(preview: ApiClient["preview"]) {
  const sent: ClientMessage[] = [];
  const asked: RunSpec[] = [];
  const store = createAppStore({
    api: {
      backends: async () => [backend],
      preview: (spec, signal) => {
        asked.push(spec);
        return preview(spec, signal);
      },
    } as ApiClient,
    send: (message) => {
      sent.push(message);
      return true;
    },
    reconnect: () => {},
    now: () => 0,
  });
  store.setState({
    socket: { state: "open", attempt: 0, retryInMs: null },
    backends: [backend],
    server: "ok",
  });
  return { store, sent, asked };
}

/** Past the debounce, and the answer's promise settled. */
async function settle() {
  await vi.advanceTimersByTimeAsync(PREVIEW_DELAY_MS);
}

describe("budgets fitted to the model's context", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("are fitToContext's on the preview's counts, and sent left out for the server to fit", async () => {
    const { store, sent, asked } = harness(async () => answer());
    await settle();
    const state = store.getState();
    expect(state.contextRoom).toEqual({ contextLength: TINY_CONTEXT, promptTokens: PROMPT_TOKENS });
    const fitted = fitToContext({}, state.contextRoom!);
    const shown = shownSettings(state.settings, state.contextRoom);
    expect([shown.maxThinkingTokens, shown.maxAnswerTokens]).toEqual([
      fitted.max_thinking_tokens,
      fitted.max_answer_tokens,
    ]);
    // The defaults do not fit: both were fitted, and the run leaves them to the server.
    expect(shown.maxThinkingTokens + shown.maxAnswerTokens + PROMPT_TOKENS).toBeLessThanOrEqual(
      TINY_CONTEXT,
    );
    expect(asked[0]?.budget_forcing).not.toHaveProperty("max_thinking_tokens");
    state.runPlayground();
    const run = sent[0];
    if (run?.type !== "run") throw new Error("expected a run message");
    expect(run.spec.budget_forcing).not.toHaveProperty("max_thinking_tokens");
    expect(run.spec.budget_forcing).not.toHaveProperty("max_answer_tokens");
  });

  it("follow a budget the user sets at once, with the last counts, and send it as set", async () => {
    const { store } = harness(async () => answer());
    await settle();
    store.getState().setSettings({ maxThinkingTokens: 512 });
    const { settings, contextRoom } = store.getState();
    expect(shownSettings(settings, contextRoom).maxAnswerTokens).toBe(
      fitToContext({ max_thinking_tokens: 512 }, contextRoom!).max_answer_tokens,
    );
    // Too large for the context: refused at its control before anything is sent.
    store.getState().setSettings({ maxThinkingTokens: 2000 });
    const problems = validateSettings(store.getState().settings, contextRoom);
    expect(problems.maxThinkingTokens).toMatch(/the model's context holds 1024/);
  });

  it("show the preview's refusal at its control before Run, and keep only the newest answer", async () => {
    const answers: ((preview: RunPreview) => void)[] = [];
    const signals: AbortSignal[] = [];
    const { store, sent } = harness(
      (spec, signal) =>
        new Promise((resolve, reject) => {
          signals.push(signal!);
          if (spec.budget_forcing?.max_thinking_tokens === 4000) {
            reject(new ApiError("budget_exceeds_context", "Lower the budgets.", 400));
          } else answers.push(resolve);
        }),
    );
    await settle();
    expect(signals[0]?.aborted).toBe(false);
    store.getState().setSettings({ prompt: "A longer question?" });
    await settle();
    store.getState().setSettings({ maxThinkingTokens: 4000 });
    await settle();
    // The older requests were overtaken: their answers, however late, are dropped.
    expect(signals.slice(0, 2).map((s) => s.aborted)).toEqual([true, true]);
    answers[0]!(answer(5));
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getState().contextRoom).toBeNull();
    const { settings, contextRoom, refusal } = store.getState();
    expect(validateSettings(settings, contextRoom, refusal).maxThinkingTokens).toBe(
      "Lower the budgets.",
    );
    store.getState().runPlayground();
    expect(sent).toEqual([]);
    expect(store.getState().notice?.text).toMatch(/Lower the budgets/);
  });

  it("are what the panel shows, with a word on why", async () => {
    const { store } = harness(async () => answer());
    render(
      <StoreProvider store={store}>
        <PlaygroundView />
      </StoreProvider>,
    );
    await settle();
    const fitted = fitToContext({}, { contextLength: TINY_CONTEXT, promptTokens: PROMPT_TOKENS });
    expect((screen.getByLabelText("Max thinking tokens") as HTMLInputElement).value).toBe(
      String(fitted.max_thinking_tokens),
    );
    expect((screen.getByLabelText("Max answer tokens") as HTMLInputElement).value).toBe(
      String(fitted.max_answer_tokens),
    );
    expect(screen.getAllByText(/Fitted to the model's context of 1,024 tokens/)).toHaveLength(2);
  });
});
