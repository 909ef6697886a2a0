import { Type } from "typebox";

export const ReadinessSchema = Type.Object({
  state: Type.Union([Type.Literal("ready"), Type.Literal("loading"), Type.Literal("unavailable")]),
  message: Type.Optional(Type.String()),
  progress: Type.Optional(Type.Number()),
});

export const CapabilitiesSchema = Type.Object({
  exactTokenIds: Type.Boolean(),
  tokenIdPrompts: Type.Boolean(),
  stopTokenIds: Type.Boolean(),
  logprobs: Type.Boolean(),
  tokenizer: Type.Boolean(),
  persistentSequence: Type.Boolean(),
  contextLength: Type.Optional(Type.Integer()),
});

/** `BackendInfo` of the protocol: what the page may know of a backend (no URL, no key). */
export const BackendInfoSchema = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  models: Type.Array(Type.String()),
  default: Type.Boolean(),
  capabilities: CapabilitiesSchema,
  readiness: ReadinessSchema,
});

export const HealthSchema = Type.Object({
  status: Type.Literal("ok"),
  backends: Type.Array(
    Type.Object({
      id: Type.String(),
      kind: Type.String(),
      default: Type.Boolean(),
      readiness: ReadinessSchema,
    }),
  ),
});
