import { describe, expect, it } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/react";
import type { ProblemRow } from "@thinkscope/protocol";
import { ExperimentProgressPanel, statusMessage } from "../src/experiments/experiment-progress.tsx";
import { PROBLEMS_PER_PAGE, ProblemTable } from "../src/experiments/problem-table.tsx";
import type { ApiClient } from "../src/lib/api-client.ts";
import { createAppStore, StoreProvider } from "../src/store/app-store.ts";
import { experimentDetail, progress, twoSettingResults } from "./experiment-fixtures.ts";

function rowTexts(): string[][] {
  return screen
    .getAllByRole("row")
    .slice(1)
    .map((row) =>
      within(row)
        .getAllByRole("cell")
        .map((cell) => cell.textContent ?? ""),
    );
}

describe("the per-problem table", () => {
  it("shows each setting's correct samples, the extracted answers and the majority vote", () => {
    const results = twoSettingResults();
    render(<ProblemTable problems={results.problems} settings={results.settings} />);
    expect(screen.getAllByRole("columnheader").map((h) => h.textContent)).toEqual([
      "#",
      "Problem",
      "Reference",
      "0 waits",
      "2 waits",
    ]);
    const [first, second, third] = rowTexts();
    expect(first).toEqual([
      "1",
      "What is 12 + 30?",
      "42",
      "2/24242vote: 42 ✓",
      "2/24242vote: 42 ✓",
    ]);
    // No answer found in the second sample: shown as ∅, still linked to its trace.
    expect(second?.[3]).toBe("0/2100∅vote: 100 ✗");
    expect(third?.[4]).toBe("1/25654vote: 56 ✓");
    expect(screen.getByLabelText("2 waits: 1 of 2 samples correct")).toBeTruthy();
  });

  it("links every sample's answer to its stored run in the library", () => {
    const results = twoSettingResults();
    render(<ProblemTable problems={results.problems} settings={results.settings} />);
    const links = screen.getAllByRole("link");
    expect(links).toHaveLength(12);
    const link = screen.getByTitle(
      "Problem 2, 0 waits, sample 2: no answer found (open the trace)",
    );
    expect(link.getAttribute("href")).toBe("#/library/run-f");
    expect(link.textContent).toBe("∅");
  });

  it("says which cells have not run yet, and filters to where the settings differ", () => {
    const results = twoSettingResults();
    const pending = results.problems.map((row): ProblemRow => ({
      ...row,
      settings: [
        row.settings[0]!,
        {
          correct: 0,
          samples: 0,
          answers: [null, null],
          run_ids: [null, null],
          majority_answer: null,
          majority_correct: null,
        },
      ],
    }));
    const { unmount } = render(<ProblemTable problems={pending} settings={results.settings} />);
    expect(screen.getAllByText("not run yet")).toHaveLength(3);
    unmount();

    render(<ProblemTable problems={results.problems} settings={results.settings} />);
    fireEvent.change(screen.getByLabelText("Show"), { target: { value: "differs" } });
    expect(rowTexts().map((r) => r[0])).toEqual(["2", "3"]);
    fireEvent.change(screen.getByLabelText("Show"), { target: { value: "unsolved" } });
    expect(screen.getByText("No problem matches.")).toBeTruthy();
  });

  it("pages long tables", () => {
    const results = twoSettingResults();
    const many = Array.from({ length: PROBLEMS_PER_PAGE + 5 }, (_, i) => ({
      ...results.problems[0]!,
      problem_id: `p${i}`,
      problem: `Problem ${i + 1}`,
    }));
    render(<ProblemTable problems={many} settings={results.settings} />);
    expect(rowTexts()).toHaveLength(PROBLEMS_PER_PAGE);
    expect(screen.getByText(`Problems 1–${PROBLEMS_PER_PAGE} of ${many.length}`)).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Next →" }));
    expect(rowTexts().map((r) => r[0])).toEqual(["26", "27", "28", "29", "30"]);
  });
});

describe("the progress panel", () => {
  function mount(detail = experimentDetail("exp-1"), receivedAt = performance.now()) {
    const store = createAppStore({
      api: {} as ApiClient,
      send: () => true,
      reconnect: () => {},
      now: () => 0,
    });
    render(
      <StoreProvider store={store}>
        <ExperimentProgressPanel summary={detail} receivedAt={receivedAt} />
      </StoreProvider>,
    );
  }

  it("shows done, running, failed, pending, tokens and time, with Cancel while running", () => {
    mount(
      experimentDetail("exp-1", {
        progress: progress({
          done: 5,
          running: 2,
          failed: 1,
          pending: 4,
          tokens: 12_345,
          thinkingTokens: 10_000,
          elapsedMs: 65_000,
          etaMs: 30_000,
          inFlight: 2,
        }),
      }),
    );
    expect(screen.getByTestId("experiment-done").textContent).toBe("5");
    expect(screen.getByTestId("experiment-running").textContent).toBe("2");
    expect(screen.getByTestId("experiment-failed").textContent).toBe("1");
    expect(screen.getByTestId("experiment-pending").textContent).toBe("4");
    expect(screen.getByTestId("experiment-tokens").textContent).toBe("12,345");
    expect(screen.getByTestId("experiment-elapsed").textContent).toBe("1 min 05 s");
    expect(screen.getByTestId("experiment-eta").textContent).toBe("30.0 s");
    const bar = screen.getByTestId("experiment-progress-bar") as HTMLProgressElement;
    expect([bar.value, bar.max]).toEqual([6, 12]);
    expect(screen.getByRole("button", { name: "Cancel" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Resume" })).toBeNull();
  });

  it("counts the elapsed time on, and the time left down, between progress messages", () => {
    mount(
      experimentDetail("exp-1", {
        progress: progress({ done: 5, elapsedMs: 65_000, etaMs: 30_000 }),
      }),
      performance.now() - 10_000,
    );
    expect(screen.getByTestId("experiment-elapsed").textContent).toBe("1 min 15 s");
    expect(screen.getByTestId("experiment-eta").textContent).toBe("20.0 s");
  });

  it("shows how busy the backend was kept once a session ended", () => {
    const store = createAppStore({
      api: {} as ApiClient,
      send: () => true,
      reconnect: () => {},
      now: () => 0,
    });
    render(
      <StoreProvider store={store}>
        <ExperimentProgressPanel
          summary={experimentDetail("exp-1", {
            status: "completed",
            progress: progress({ done: 12, pending: 0 }),
          })}
          receivedAt={0}
          throughput={{ concurrency: 2, peakInFlight: 2, meanInFlight: 1.94, points: [] }}
        />
      </StoreProvider>,
    );
    expect(screen.getByText("1.9 of 2 in flight on average")).toBeTruthy();
  });

  it("says plainly that an interrupted experiment resumes where it stopped", () => {
    const detail = experimentDetail("exp-1", {
      status: "interrupted",
      progress: progress({ done: 7, pending: 5 }),
    });
    expect(statusMessage(detail)).toEqual({
      tone: "warn",
      text: "Interrupted: the server stopped or restarted while this experiment ran. Resume continues where it stopped: the 7 finished items are kept and only the 5 left run.",
    });
    mount(detail);
    expect(screen.getByRole("button", { name: "Resume" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Cancel" })).toBeNull();
    expect(screen.getByTestId("experiment-eta").textContent).toBe("–");
  });

  it("explains a failed experiment with the server's error", () => {
    expect(
      statusMessage(
        experimentDetail("exp-1", {
          status: "failed",
          error: { code: "upstream_unreachable", message: "vLLM did not answer" },
          progress: progress({ done: 9, failed: 3, pending: 0 }),
        }),
      ).text,
    ).toBe(
      "Stopped with failed items: vLLM did not answer (upstream_unreachable). Resume retries the 3 failed and 0 pending items.",
    );
  });
});
