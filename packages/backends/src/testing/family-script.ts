/**
 * One budget-forcing story per family, in the family's real token ids: the
 * model thinks "Okay, the sum is four." and tries to close; after an injected
 * wait it writes " let me check 🦙 again." (the emoji is three byte-level
 * tokens, so a budget can cut it in half); after the close's "Final Answer:"
 * it answers " Four". Models that open their thinking themselves (Qwen3
 * without a template that does it, gpt-oss) first write the start delimiter.
 * Each token has one successor, so the story is a transition table a
 * scripted model (family-test-model.ts, the vLLM stand-in) follows exactly.
 */
import type { ChatMessage } from "@thinkscope/core";
import {
  FAMILY_PROFILES,
  forcedCloseText,
  resolveFormat,
  withThinkingStart,
} from "@thinkscope/core";
import type { FamilyId, ThinkingFormat } from "@thinkscope/protocol";
import { familyTokenizer, type FamilyTokenizer } from "./family-tokenizers.ts";

export const FAMILY_QUESTION: readonly ChatMessage[] = [{ role: "user", content: "What is 2+2?" }];
export const FIRST_THOUGHT = "Okay, the sum is four.";
export const SECOND_THOUGHT_BEFORE_CUT = " let me check";
/** Three byte-level tokens in every family here: a cut after the first splits the character. */
export const SPLIT_CHARACTER = " 🦙";
export const SECOND_THOUGHT_AFTER_CUT = " again.";
export const ANSWER = " Four";
export const FINAL_ANSWER_PREFIX = "Final Answer:";

export interface FamilyScript {
  family: FamilyId;
  tokenizer: FamilyTokenizer;
  format: ThinkingFormat;
  /** The prompt a chat run sends: the template's, plus the thinking start when nothing opens it. */
  prompt: string;
  promptIds: number[];
  /** What the model writes to open its thinking itself (empty when the prompt opens it). */
  opening: string;
  /** The token that ends the thinking (the stop id). */
  endId: number;
  waitString: string;
  waitIds: number[];
  /** Ids of the opening and the first thought (before the first end attempt). */
  firstIds: number[];
  /** Ids after the wait up to the cut: " let me check" and the first byte of the split character. */
  beforeCutIds: number[];
  /** The thinking budget that forces the close in the middle of the split character. */
  maxThinkingTokens: number;
  /** The forced close the engine appends at that point, with the answer lead-in. */
  forcedClose: string;
  forcedCloseIds: number[];
  answerIds: number[];
  eosId: number;
  transitions: Map<number, number>;
}

/** Families whose model opens its thinking itself: the run sends the template's prompt as it is. */
const MODEL_OPENS: Partial<Record<FamilyId, true>> = { qwen3: true, "gpt-oss": true };

export function familyScript(family: FamilyId): FamilyScript {
  const tokenizer = familyTokenizer(family);
  const profile = FAMILY_PROFILES[family];
  const format = resolveFormat(profile.format);
  const rendered = tokenizer.render(FAMILY_QUESTION);
  const modelOpens = MODEL_OPENS[family] === true;
  const prompt = modelOpens ? rendered : withThinkingStart(format, rendered);
  const opening = modelOpens ? format.start : "";
  const promptIds = tokenizer.encode(prompt);
  const endId = tokenizer.id(format.endMarkers[0]!);
  const eosId = tokenizer.id(tokenizer.eos);
  const waitString = profile.waitStrings[0]!;
  const waitIds = tokenizer.encode(waitString);

  // s1 starts its thinking on a new line after `<|im_start|>think`.
  const firstText = opening + (format.name === "s1" ? "\n" : "") + FIRST_THOUGHT;
  const firstIds = tokenizer.encode(firstText);
  const checkIds = tokenizer.encode(SECOND_THOUGHT_BEFORE_CUT);
  const splitIds = tokenizer.encode(SPLIT_CHARACTER);
  const againIds = tokenizer.encode(SECOND_THOUGHT_AFTER_CUT);
  if (splitIds.length < 2) throw new Error(`${family}: ${SPLIT_CHARACTER} is one token`);
  const beforeCutIds = [...checkIds, splitIds[0]!];
  const maxThinkingTokens = firstIds.length + waitIds.length + beforeCutIds.length;
  // The engine's close after thinking that does not end in a newline.
  const forcedClose = forcedCloseText(format, SECOND_THOUGHT_BEFORE_CUT, FINAL_ANSWER_PREFIX);
  const forcedCloseIds = tokenizer.encode(forcedClose);
  const answerIds = tokenizer.encode(ANSWER);

  const transitions = new Map<number, number>();
  const chain = (ids: readonly number[]) => {
    for (let i = 0; i + 1 < ids.length; i++) {
      const [from, to] = [ids[i]!, ids[i + 1]!];
      const before = transitions.get(from);
      if (before !== undefined && before !== to) {
        throw new Error(
          `${family}: token ${from} (${JSON.stringify(tokenizer.decode([from]))}) is followed by both ${before} and ${to}`,
        );
      }
      transitions.set(from, to);
    }
  };
  chain([promptIds.at(-1)!, ...firstIds, endId]);
  chain([waitIds.at(-1)!, ...checkIds, ...splitIds, ...againIds, endId]);
  chain([forcedCloseIds.at(-1)!, ...answerIds, eosId]);

  return {
    family,
    tokenizer,
    format,
    prompt,
    promptIds,
    opening,
    endId,
    waitString,
    waitIds,
    firstIds,
    beforeCutIds,
    maxThinkingTokens,
    forcedClose,
    forcedCloseIds,
    answerIds,
    eosId,
    transitions,
  };
}

/** Every family the project has a profile for. */
export const FAMILY_IDS = Object.keys(FAMILY_PROFILES) as FamilyId[];

/** The name a family's test model carries, which the family is matched from. */
export function familyModelName(family: FamilyId): string {
  const names: Record<FamilyId, string> = {
    qwen3: "Qwen3-0.6B",
    "qwen3-thinking-2507": "Qwen3-4B-Thinking-2507",
    qwq: "QwQ-32B",
    "deepseek-r1": "DeepSeek-R1",
    "r1-distill-qwen": "DeepSeek-R1-Distill-Qwen-1.5B",
    "r1-distill-llama": "DeepSeek-R1-Distill-Llama-8B",
    s1: "s1.1-32B",
    "gpt-oss": "gpt-oss-20b",
    "think-tags": "my-reasoner",
  };
  return `${names[family]}-thinkscope-test`;
}
