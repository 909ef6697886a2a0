/**
 * The reasoning-model families budget forcing knows (docs/models.md): each
 * one's profile, and the matching of a model to its family from its name,
 * its GGUF metadata or its chat template.
 */
import type { FamilyId, FamilyMatch, FamilyProfile } from "@thinkscope/protocol";

/**
 * " Wait" (with its space) is one token in every family's byte-level BPE and
 * stays that token after a letter, a full stop, a space or a newline; "Wait"
 * merges with a full stop before it into other tokens. A byte-level BPE of no
 * known family most likely splits words the same way.
 */
const CLEAN_WAIT = [" Wait"];

export const FAMILY_PROFILES: Readonly<Record<FamilyId, FamilyProfile>> = {
  qwen3: {
    id: "qwen3",
    label: "Qwen3",
    format: "think-tags",
    templateOpensThinking: false,
    history: "thinking-dropped",
    waitStrings: CLEAN_WAIT,
    contextLength: 40_960,
    maxThinkingTokens: 32_768,
  },
  "qwen3-thinking-2507": {
    id: "qwen3-thinking-2507",
    label: "Qwen3 Thinking-2507",
    format: "think-tags",
    templateOpensThinking: true,
    history: "thinking-dropped",
    waitStrings: CLEAN_WAIT,
    contextLength: 262_144,
    maxThinkingTokens: 81_920,
  },
  qwq: {
    id: "qwq",
    label: "QwQ-32B",
    format: "think-tags",
    templateOpensThinking: true,
    history: "thinking-dropped",
    waitStrings: CLEAN_WAIT,
    contextLength: 40_960,
    maxThinkingTokens: 32_768,
  },
  "deepseek-r1": {
    id: "deepseek-r1",
    label: "DeepSeek-R1",
    format: "think-tags",
    templateOpensThinking: true,
    history: "thinking-dropped",
    waitStrings: CLEAN_WAIT,
    contextLength: 131_072,
    maxThinkingTokens: 32_768,
  },
  "r1-distill-qwen": {
    id: "r1-distill-qwen",
    label: "DeepSeek-R1-Distill-Qwen",
    format: "think-tags",
    templateOpensThinking: true,
    history: "thinking-dropped",
    waitStrings: CLEAN_WAIT,
    contextLength: 131_072,
    maxThinkingTokens: 32_768,
  },
  "r1-distill-llama": {
    id: "r1-distill-llama",
    label: "DeepSeek-R1-Distill-Llama",
    format: "think-tags",
    templateOpensThinking: true,
    history: "thinking-dropped",
    waitStrings: CLEAN_WAIT,
    contextLength: 131_072,
    maxThinkingTokens: 32_768,
  },
  s1: {
    id: "s1",
    label: "s1 / s1.1",
    format: "s1",
    templateOpensThinking: false,
    history: "as-given",
    waitStrings: CLEAN_WAIT,
    contextLength: 32_768,
    maxThinkingTokens: 16_384,
  },
  "gpt-oss": {
    id: "gpt-oss",
    label: "gpt-oss",
    format: "harmony",
    templateOpensThinking: false,
    history: "thinking-dropped",
    waitStrings: CLEAN_WAIT,
    contextLength: 131_072,
    maxThinkingTokens: 32_768,
  },
  "think-tags": {
    id: "think-tags",
    label: "think tags (generic)",
    format: "think-tags",
    history: "as-given",
    waitStrings: CLEAN_WAIT,
    contextLength: 4096,
    maxThinkingTokens: 2048,
  },
};

/** What is known of a model; any part may be missing. */
export interface ModelFacts {
  /** The served model's name: a repository id, a GGUF file name, `general.name`. */
  names?: readonly (string | undefined)[];
  /** GGUF `tokenizer.ggml.pre`: which pre-tokenizer the vocabulary was converted with. */
  preTokenizer?: string;
  /** GGUF `general.architecture`. */
  architecture?: string;
  /** The model's own chat template (Jinja source). */
  chatTemplate?: string;
}

export interface MatchedFamily extends FamilyMatch {
  profile: FamilyProfile;
}

// Most specific first: the distills before R1, s1 and QwQ before Qwen.
const NAME_PATTERNS: ReadonlyArray<readonly [RegExp, FamilyId]> = [
  [/gpt-oss/, "gpt-oss"],
  [/r1-distill-llama/, "r1-distill-llama"],
  [/r1-distill-qwen/, "r1-distill-qwen"],
  [/deepseek-r1/, "deepseek-r1"],
  [/(^|[/_-])s1(\.1)?([-_.]|$)/, "s1"],
  [/qwq/, "qwq"],
  [/qwen3.*thinking-2507|qwen3.*2507.*thinking/, "qwen3-thinking-2507"],
  [/qwen3/, "qwen3"],
];

/**
 * The family of a model: from its name when one says it, else from its GGUF
 * metadata (the pre-tokenizer a conversion recorded), else from what its chat
 * template writes, else the generic think-tags profile.
 */
export function matchFamily(facts: ModelFacts): MatchedFamily {
  for (const name of facts.names ?? []) {
    const lower = (name ?? "").toLowerCase();
    const hit = NAME_PATTERNS.find(([pattern]) => pattern.test(lower));
    if (hit) return matched(hit[1], "name");
  }
  const byMetadata = familyFromMetadata(facts);
  if (byMetadata) return matched(byMetadata, "metadata");
  const byTemplate = facts.chatTemplate ? familyFromTemplate(facts.chatTemplate) : undefined;
  if (byTemplate) return matched(byTemplate, "template");
  return matched("think-tags", "fallback");
}

function familyFromMetadata({ preTokenizer, architecture }: ModelFacts): FamilyId | undefined {
  if (architecture === "gpt-oss") return "gpt-oss";
  if (preTokenizer === "deepseek-r1-qwen") return "r1-distill-qwen";
  if (preTokenizer === "deepseek-v3") return "deepseek-r1";
  if (architecture === "qwen3" || architecture === "qwen3moe") return "qwen3";
  return undefined;
}

function familyFromTemplate(template: string): FamilyId | undefined {
  if (template.includes("<|channel|>")) return "gpt-oss";
  if (template.includes("<｜Assistant｜>") && template.includes("<think>")) return "deepseek-r1";
  if (template.includes("<|im_start|>") && template.includes("enable_thinking")) return "qwen3";
  return undefined;
}

function matched(family: FamilyId, matchedBy: FamilyMatch["matchedBy"]): MatchedFamily {
  const profile = FAMILY_PROFILES[family];
  return { family, label: profile.label, matchedBy, profile };
}
