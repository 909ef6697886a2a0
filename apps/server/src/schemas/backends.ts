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

/**
 * `degraded` while the run store cannot write (`store` says why; absent when
 * it can): the server still serves, but runs fail until storage recovers.
 */
export const HealthSchema = Type.Object({
  status: Type.Union([Type.Literal("ok"), Type.Literal("degraded")]),
  store: Type.Optional(
    Type.Object({
      code: Type.Union([Type.Literal("storage_full"), Type.Literal("storage_unavailable")]),
      message: Type.String(),
    }),
  ),
  backends: Type.Array(
    Type.Object({
      id: Type.String(),
      kind: Type.String(),
      default: Type.Boolean(),
      readiness: ReadinessSchema,
    }),
  ),
});
