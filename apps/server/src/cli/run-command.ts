import { readFileSync } from "node:fs";
import { InvalidArgumentError, type Command } from "commander";
import type { Fork } from "@thinkscope/protocol";
import pc from "picocolors";
import { ThinkscopeError } from "@thinkscope/core";
import type { BudgetForcingSummary } from "@thinkscope/protocol";
import { ConfigError, loadConfig } from "../config/config.ts";
import { openLocalServices } from "./local-services.ts";
import { addBudgetOptions, budgetSettingsFrom, type BudgetOptions } from "./run-options.ts";
import { TerminalTrace } from "./terminal-trace.ts";

interface RunOptions extends BudgetOptions {
  raw?: boolean;
  json?: boolean;
  fork?: string;
  at?: number;
  insert?: string;
}

/** What `--json` prints: the same `budget_forcing` object as the HTTP API. */
export interface RunJson {
  text: string;
  budget_forcing: BudgetForcingSummary;
  run_id: string;
}

export function registerRunCommand(program: Command): void {
  const command = program
    .command("run")
    .description("run one budget-forced generation and print it live, each injection marked")
    .argument(
      "[prompt]",
      "the question (a user message), or with --raw the exact text to continue; - reads stdin",
    )
    .option("--raw", "the prompt is already templated: send it as is")
    .option(
      "--fork <run_id>",
      "continue a saved run instead of a prompt (its backend, model and settings, unless given)",
    )
    .option("--at <n>", "with --fork: after how many of its continuation tokens", forkPoint)
    .option("--insert <text>", "with --fork: text to insert there before continuing")
    .option(
      "--json",
      'print one JSON object { "text", "budget_forcing", "run_id" } instead of the live trace',
    );
  addBudgetOptions(command).action(
    async (prompt: string | undefined, options: RunOptions, self: Command) => {
      // A fork keeps its parent's format unless one is given.
      const formatGiven = self.getOptionValueSource("format") !== "default";
      process.exitCode = await runCommand(prompt, options, formatGiven);
    },
  );
}

function forkPoint(value: string): number {
  if (!/^\d+$/.test(value.trim()))
    throw new InvalidArgumentError("Expected a whole number of tokens.");
  return Number(value);
}

/** The prompt to run, or the run to fork: exactly one of them. */
function promptOrFork(
  promptArgument: string | undefined,
  options: RunOptions,
): { prompt: string } | { fork: Fork } {
  if (options.fork === undefined) {
    if (options.at !== undefined || options.insert !== undefined)
      throw new InvalidArgumentError("--at and --insert need --fork.");
    if (promptArgument === undefined)
      throw new InvalidArgumentError("Give a prompt, or --fork RUN_ID --at N.");
    const prompt = promptArgument === "-" ? readFileSync(0, "utf8") : promptArgument;
    if (prompt.trim() === "") throw new InvalidArgumentError("The prompt is empty.");
    return { prompt };
  }
  if (promptArgument !== undefined)
    throw new InvalidArgumentError(
      "Give a prompt or --fork, not both: a fork continues its parent's prompt.",
    );
  if (options.at === undefined) throw new InvalidArgumentError("--fork needs --at N.");
  const fork: Fork = { run_id: options.fork, at: options.at };
  if (options.insert !== undefined) fork.insert = options.insert;
  return { fork };
}

async function runCommand(
  promptArgument: string | undefined,
  options: RunOptions,
  formatGiven: boolean,
): Promise<number> {
  // Everything a user can get wrong is checked before a model is loaded
  // (backends load their model lazily, on the first run).
  let settings;
  let services;
  let source: { prompt: string } | { fork: Fork };
  try {
    settings = budgetSettingsFrom(options);
    source = promptOrFork(promptArgument, options);
    if ("fork" in source && !formatGiven) delete settings.budgetForcing.format;
    const config = loadConfig({
      overrides: {
        ...(options.backend ? { backends: [options.backend] } : {}),
        ...(options.model ? { model: options.model } : {}),
      },
    });
    services = await openLocalServices(config);
  } catch (error) {
    if (
      error instanceof InvalidArgumentError ||
      error instanceof ConfigError ||
      ThinkscopeError.isInstance(error)
    ) {
      console.error(`thinkscope run: ${error.message}`);
      return 2;
    }
    throw error;
  }

  const abort = new AbortController();
  const onInterrupt = () => abort.abort();
  process.once("SIGINT", onInterrupt);
  const stopProgress = showLoadProgress(services.backends, !options.json);
  try {
    const { budgetForcing, sampling } = settings;
    const run = await services.runService.start(
      { ...source, mode: options.raw ? "raw" : "chat", budgetForcing, sampling, source: "cli" },
      { signal: abort.signal },
    );
    stopProgress();
    const trace = new TerminalTrace(process.stdout);
    let failed = false;
    for await (const event of run.events()) {
      if (!options.json) trace.write(event);
      if (event.type === "run.error") {
        failed = true;
        if (!options.json) process.stdout.write("\n");
        console.error(pc.red(`thinkscope run: ${event.message}`));
      }
    }
    const summary = run.transcript.summary();
    if (options.json) {
      const result: RunJson = {
        text: run.transcript.text,
        budget_forcing: summary,
        run_id: run.id,
      };
      process.stdout.write(JSON.stringify(result) + "\n");
    } else {
      process.stdout.write("\n");
      console.error(pc.dim(statsLine(summary, run.id)));
    }
    if (abort.signal.aborted) return 130;
    return failed ? 1 : 0;
  } catch (error) {
    stopProgress();
    if (ThinkscopeError.isInstance(error)) {
      console.error(`thinkscope run: ${error.message}`);
      return error.status < 500 ? 2 : 1;
    }
    throw error;
  } finally {
    process.off("SIGINT", onInterrupt);
    await services.close();
  }
}

function statsLine(s: BudgetForcingSummary, runId: string): string {
  const generated = s.thinking_tokens - (s.injected_tokens - s.close_tokens);
  return [
    `thinking ${s.thinking_tokens} tokens (${generated} generated + ${s.thinking_tokens - generated} injected)`,
    `${s.waits} wait${s.waits === 1 ? "" : "s"}`,
    s.forced_end ? "forced close" : "own close",
    `answer ${s.answer_tokens} tokens`,
    `${s.upstream_requests} upstream requests`,
    s.token_counts_exact ? "exact counts" : "approximate counts",
    `saved as ${runId}`,
  ].join(" · ");
}

/** Model download or load progress on stderr while the default backend gets ready. */
function showLoadProgress(
  backends: Awaited<ReturnType<typeof openLocalServices>>["backends"],
  enabled: boolean,
): () => void {
  if (!enabled || !process.stderr.isTTY) return () => {};
  let shown = false;
  const unsubscribe = backends.onStatus((_id, readiness) => {
    if (readiness.state !== "loading") return;
    const percent =
      readiness.progress === undefined ? "" : ` ${Math.round(readiness.progress * 100)}%`;
    process.stderr.write(`\r${pc.dim(readiness.message + percent)}\x1b[K`);
    shown = true;
  });
  return () => {
    unsubscribe();
    if (shown) process.stderr.write("\r\x1b[K");
    shown = false;
  };
}
