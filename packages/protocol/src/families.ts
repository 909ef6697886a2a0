/**
 * Model families: how each reasoning-model family thinks on the wire (its
 * thinking format, what its own chat template does, the wait strings that
 * tokenize cleanly in it, the budgets its context allows), and which family
 * a backend's model was matched to. The profiles themselves and the matching
 * are in `@thinkscope/core` (families); docs/models.md has the table.
 */
import { Type, type Static } from "typebox";
import { FormatSchema } from "./budget.ts";

export const FamilyIdSchema = Type.Union([
  Type.Literal("qwen3"),
  Type.Literal("qwen3-thinking-2507"),
  Type.Literal("qwq"),
  Type.Literal("deepseek-r1"),
  Type.Literal("r1-distill-qwen"),
  Type.Literal("r1-distill-llama"),
  Type.Literal("s1"),
  Type.Literal("gpt-oss"),
  /** Any other model: `<think>` tags, whatever its tokenizer makes of them. */
  Type.Literal("think-tags"),
]);
export type FamilyId = Static<typeof FamilyIdSchema>;

export const FamilyProfileSchema = Type.Object({
  id: FamilyIdSchema,
  /** The name the page shows, e.g. "Qwen3". */
  label: Type.String(),
  /** The thinking format budget forcing uses for this family. */
  format: FormatSchema,
  /**
   * The family's own chat template ends inside the thinking (it writes the
   * start delimiter itself, as QwQ and DeepSeek-R1 do); otherwise the model
   * opens its thinking or the run pre-inserts the start. Absent when the
   * family has no one template (the generic profile): either is fine.
   */
  templateOpensThinking: Type.Optional(Type.Boolean()),
  /** What the template does with the thinking of earlier assistant turns. */
  history: Type.Union([Type.Literal("thinking-dropped"), Type.Literal("as-given")]),
  /** Wait strings whose tokens are the same alone and after any text (they merge with nothing). */
  waitStrings: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
  /** The family's published context length, which the budgets must fit in. */
  contextLength: Type.Integer({ minimum: 1 }),
  /** A thinking budget that fits the context with room for the prompt and the answer. */
  maxThinkingTokens: Type.Integer({ minimum: 1 }),
});
export type FamilyProfile = Static<typeof FamilyProfileSchema>;

/** Which family a model was matched to, and from what. */
export const FamilyMatchSchema = Type.Object({
  family: FamilyIdSchema,
  label: Type.String(),
  /** `fallback` when nothing matched: the generic think-tags profile. */
  matchedBy: Type.Union([
    Type.Literal("name"),
    Type.Literal("metadata"),
    Type.Literal("template"),
    Type.Literal("fallback"),
  ]),
});
export type FamilyMatch = Static<typeof FamilyMatchSchema>;
