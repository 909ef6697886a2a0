/**
 * The OpenAI-compatible endpoints' bodies and responses. Request schemas type
 * the fields this server reads and leave every other field open: a field a
 * run cannot honour is refused by name, or forwarded upstream with the
 * request (services/openai/run-input.ts).
 * Like the AI SDK's response schemas, they are deliberately partial.
 */
import { BudgetForcingSchema, ForkSchema } from "@thinkscope/protocol";
import { Type, type Static, type TSchema } from "typebox";
import { BudgetForcingSummarySchema } from "@thinkscope/protocol";

const Open = { additionalProperties: true } as const;
const Nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

const StopSchema = Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 16 })]);

const CommonFields = {
  model: Type.Optional(Type.String({ maxLength: 500 })),
  max_tokens: Nullable(Type.Integer({ minimum: 0 })),
  temperature: Nullable(Type.Number({ minimum: 0, maximum: 5 })),
  top_p: Nullable(Type.Number({ minimum: 0, maximum: 1 })),
  seed: Nullable(Type.Integer()),
  stop: Nullable(StopSchema),
  n: Nullable(Type.Integer({ minimum: 1, maximum: 128 })),
  stream: Nullable(Type.Boolean()),
  stream_options: Nullable(Type.Object({ include_usage: Type.Optional(Type.Boolean()) }, Open)),
  budget_forcing: Type.Optional(BudgetForcingSchema),
  /** Extension: continue a stored run instead of `prompt`/`messages` (a budget-forced run). */
  fork: Type.Optional(ForkSchema),
};

export const CompletionRequestSchema = Type.Object(
  {
    ...CommonFields,
    // Strings, lists of strings or token ids are all valid upstream; a budget-forced run takes one string.
    // Absent only with `fork`.
    prompt: Type.Optional(
      Type.Union([
        Type.String(),
        Type.Array(Type.String()),
        Type.Array(Type.Integer()),
        Type.Array(Type.Array(Type.Integer())),
      ]),
    ),
  },
  Open,
);
export type CompletionRequest = Static<typeof CompletionRequestSchema>;

const ContentPartSchema = Type.Object({ type: Type.String() }, Open);

export const ChatMessageSchema = Type.Object(
  {
    role: Type.String({ minLength: 1 }),
    content: Type.Optional(Type.Union([Type.String(), Type.Array(ContentPartSchema), Type.Null()])),
  },
  Open,
);

export const ChatCompletionRequestSchema = Type.Object(
  {
    ...CommonFields,
    max_completion_tokens: Nullable(Type.Integer({ minimum: 0 })),
    // Absent only with `fork`.
    messages: Type.Optional(Type.Array(ChatMessageSchema, { minItems: 1 })),
    /** Extension: a family chat template that overrides the model's own (budget-forced runs). */
    chat_template: Type.Optional(Type.String({ maxLength: 100 })),
  },
  Open,
);
export type ChatCompletionRequest = Static<typeof ChatCompletionRequestSchema>;

const UsageSchema = Type.Object(
  {
    prompt_tokens: Type.Integer(),
    completion_tokens: Type.Integer(),
    total_tokens: Type.Integer(),
    completion_tokens_details: Type.Optional(Type.Object({ reasoning_tokens: Type.Integer() })),
  },
  Open,
);

const FinishReason = Type.Union([Type.Literal("stop"), Type.Literal("length")]);

export const CompletionResponseSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal("text_completion"),
  created: Type.Integer(),
  model: Type.String(),
  choices: Type.Array(
    Type.Object({
      index: Type.Integer(),
      text: Type.String(),
      logprobs: Type.Null(),
      finish_reason: FinishReason,
    }),
  ),
  usage: UsageSchema,
  budget_forcing: Type.Optional(BudgetForcingSummarySchema),
});
export type CompletionResponse = Static<typeof CompletionResponseSchema>;

export const ChatCompletionResponseSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal("chat.completion"),
  created: Type.Integer(),
  model: Type.String(),
  choices: Type.Array(
    Type.Object({
      index: Type.Integer(),
      message: Type.Object({
        role: Type.Literal("assistant"),
        content: Type.String(),
        reasoning_content: Type.Optional(Type.String()),
        /** The same text, under the name vLLM and OpenRouter use. */
        reasoning: Type.Optional(Type.String()),
      }),
      logprobs: Type.Null(),
      finish_reason: FinishReason,
    }),
  ),
  usage: UsageSchema,
  budget_forcing: Type.Optional(BudgetForcingSummarySchema),
});
export type ChatCompletionResponse = Static<typeof ChatCompletionResponseSchema>;

export const ModelSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal("model"),
  created: Type.Integer(),
  owned_by: Type.String(),
  /** Extension: the configured backend serving it. */
  backend: Type.String(),
  context_length: Type.Optional(Type.Integer()),
});

export const ModelListSchema = Type.Object({
  object: Type.Literal("list"),
  data: Type.Array(ModelSchema),
});
export type ModelList = Static<typeof ModelListSchema>;
