/**
 * Thinkscope as a Vercel AI SDK provider: `@ai-sdk/openai-compatible` with a
 * metadata hook, so what Thinkscope adds to an OpenAI response reaches
 * `providerMetadata.thinkscope`: the run's `budget_forcing` summary (waits,
 * forced close, token counts, segments), its id, and, when streaming, each
 * injection in order. Budget forcing goes in through
 * `providerOptions.thinkscope.budget_forcing`, which the provider passes on
 * as a body field.
 */
import {
  createOpenAICompatible,
  type MetadataExtractor,
  type OpenAICompatibleProviderSettings,
} from "@ai-sdk/openai-compatible";
import type { BudgetForcingSummary, InjectionKind } from "@thinkscope/protocol";

/** What `providerMetadata.thinkscope` holds. */
export interface ThinkscopeMetadata {
  /** The run's summary, as the API's `budget_forcing` object. */
  budgetForcing?: BudgetForcingSummary;
  /** The stored run (`/api/runs/:id`), from the response id. */
  runId?: string;
  /** Streaming only: each injection (a wait, a close) in the order it came. */
  injections?: Array<{ kind: InjectionKind; text: string }>;
}

interface ThinkscopeBody {
  id?: unknown;
  budget_forcing?: BudgetForcingSummary;
  choices?: Array<{ injected?: InjectionKind; injected_text?: string; text?: string }>;
}

/** `chatcmpl-run_…` and `cmpl-run_…` name the stored run. */
function runIdOf(id: unknown): string | undefined {
  if (typeof id !== "string") return undefined;
  const dash = id.indexOf("-");
  return dash > 0 && id.startsWith("run_", dash + 1) ? id.slice(dash + 1) : undefined;
}

function asProviderMetadata(metadata: ThinkscopeMetadata) {
  // The summary is JSON already; the SDK types metadata as JSON values.
  return { thinkscope: JSON.parse(JSON.stringify(metadata)) as Record<string, never> };
}

export const thinkscopeMetadataExtractor: MetadataExtractor = {
  async extractMetadata({ parsedBody }) {
    const body = parsedBody as ThinkscopeBody;
    const metadata: ThinkscopeMetadata = {};
    if (body.budget_forcing) metadata.budgetForcing = body.budget_forcing;
    const runId = runIdOf(body.id);
    if (runId) metadata.runId = runId;
    return asProviderMetadata(metadata);
  },
  createStreamExtractor() {
    const metadata: ThinkscopeMetadata = { injections: [] };
    return {
      processChunk(parsedChunk) {
        const chunk = parsedChunk as ThinkscopeBody;
        metadata.runId ??= runIdOf(chunk.id);
        if (chunk.budget_forcing) metadata.budgetForcing = chunk.budget_forcing;
        for (const choice of chunk.choices ?? []) {
          if (choice.injected) {
            metadata.injections!.push({
              kind: choice.injected,
              text: choice.injected_text ?? choice.text ?? "",
            });
          }
        }
      },
      buildMetadata: () => asProviderMetadata(metadata),
    };
  },
};

/** A provider for a Thinkscope server (`baseURL` ends in `/v1`); usage is always streamed. */
export function createThinkscope(
  settings: Omit<OpenAICompatibleProviderSettings, "name" | "metadataExtractor">,
) {
  return createOpenAICompatible({
    includeUsage: true,
    ...settings,
    name: "thinkscope",
    metadataExtractor: thinkscopeMetadataExtractor,
  });
}
