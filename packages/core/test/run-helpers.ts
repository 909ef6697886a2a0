import type { EngineEvent } from "@thinkscope/protocol";
import { BudgetForcingRun, RunTranscript, type RunRequest } from "../src/index.ts";
import { ScriptedBackend, type ScriptedBackendOptions } from "../src/testing/index.ts";

export const PROMPT = "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\n";

export interface RunResult {
  backend: ScriptedBackend;
  events: EngineEvent[];
  transcript: RunTranscript;
}

/** Run the engine against a scripted backend and collect everything it yields. */
export async function runScripted(
  backendOptions: ScriptedBackendOptions,
  request: Partial<RunRequest> = {},
  options: { signal?: AbortSignal; onEvent?: (event: EngineEvent) => void } = {},
): Promise<RunResult> {
  const backend = new ScriptedBackend(backendOptions);
  const session = await backend.openSession();
  const run = await BudgetForcingRun.prepare(session, backend.capabilities, {
    prompt: PROMPT,
    ...request,
  });
  const events: EngineEvent[] = [];
  const transcript = new RunTranscript();
  for await (const event of run.events({ signal: options.signal })) {
    events.push(event);
    transcript.apply(event);
    options.onEvent?.(event);
  }
  return { backend, events, transcript };
}

export function injections(events: EngineEvent[]) {
  return events.flatMap((e) => (e.type === "injection" ? [e] : []));
}
