/**
 * Whether budget forcing can be token-exact on one model: its family's
 * delimiters, wait strings and close checked against the model's own
 * tokenizer and chat template (`thinkscope doctor` prints this).
 */
import type { FamilyProfile } from "@thinkscope/protocol";
import type { ChatMessage } from "./backend.ts";
import { forcedCloseText, promptOpensThinking, resolveFormat } from "./formats.ts";

export interface FamilyCheckInput {
  profile: FamilyProfile;
  /** The model's tokenizer; `special` parses control tokens such as `<|im_start|>`. */
  tokenize(text: string, options: { special: boolean }): Promise<number[]>;
  /** The model's own chat template, when it has one. */
  renderTemplate?(messages: ChatMessage[]): Promise<string>;
  /** Wait strings to check instead of the profile's. */
  waitStrings?: readonly string[];
  finalAnswerPrefix?: string;
}

export interface TokenizedText {
  text: string;
  ids: number[];
}

export interface WaitCheck extends TokenizedText {
  /** The wait's ids after each sample of thinking, and whether they are its ids alone. */
  contexts: Array<{ after: string; ids: number[]; clean: boolean }>;
}

export interface FamilyCheck {
  endMarkers: TokenizedText[];
  waits: WaitCheck[];
  /** The template's prompt for one user message; absent without a template. */
  template?: { prompt: string; opensThinking: boolean };
  /** A forced close after a sample of thinking: the ids the engine would inject. */
  forcedClose: TokenizedText & { after: string };
  /** Each thing that would make budget forcing inexact on this model. */
  warnings: string[];
}

/** Thinking that a wait may follow: a word, a sentence, a line, a space. */
const WAIT_CONTEXTS = ["four", "four.", "four.\n", "four. "];
const SAMPLE_THINKING = "The sum is four.";
const SAMPLE_QUESTION: ChatMessage[] = [{ role: "user", content: "What is 2+2?" }];

export async function checkFamily(input: FamilyCheckInput): Promise<FamilyCheck> {
  const { profile, tokenize } = input;
  const format = resolveFormat(profile.format);
  const warnings: string[] = [];
  const special = async (text: string) => ({ text, ids: await tokenize(text, { special: true }) });

  const endMarkers = await Promise.all(format.endMarkers.map(special));
  for (const marker of endMarkers) {
    if (marker.ids.length !== 1) {
      warnings.push(
        `the end of thinking ${show(marker.text)} is ${marker.ids.length} tokens [${marker.ids.join(", ")}], ` +
          "not one: the engine cannot stop on it by id and can only find it in the text",
      );
    }
  }

  const waits: WaitCheck[] = [];
  for (const text of input.waitStrings ?? profile.waitStrings) {
    const ids = await tokenize(text, { special: false });
    const contexts = [];
    for (const after of WAIT_CONTEXTS) {
      const before = await tokenize(after, { special: false });
      const joined = await tokenize(after + text, { special: false });
      const inContext = joined.slice(before.length);
      const clean = startsWith(joined, before) && sameIds(inContext, ids);
      contexts.push({ after, ids: inContext, clean });
      if (!clean) {
        warnings.push(
          `the wait string ${show(text)} is [${ids.join(", ")}] alone but merges with ${show(after)} ` +
            `before it ([${joined.join(", ")}]): a server that re-tokenizes the text would not see the injected ids`,
        );
      }
    }
    waits.push({ text, ids, contexts });
  }

  let template: FamilyCheck["template"];
  if (input.renderTemplate) {
    const prompt = await input.renderTemplate(SAMPLE_QUESTION);
    const opensThinking = promptOpensThinking(format, prompt);
    template = { prompt, opensThinking };
    const expected = profile.templateOpensThinking;
    if (expected !== undefined && opensThinking !== expected) {
      warnings.push(
        `the ${profile.label} template ${expected ? "opens" : "does not open"} the thinking, ` +
          `but this model's template ${opensThinking ? "does" : "does not"} (its prompt ends ${show(prompt.slice(-40))}): ` +
          "the template or the family is wrong",
      );
    }
  }

  const closeText = forcedCloseText(
    format,
    SAMPLE_THINKING,
    input.finalAnswerPrefix ?? "Final Answer:",
  );
  const forcedClose = { ...(await special(closeText)), after: SAMPLE_THINKING };
  const endIds = endMarkers.filter((m) => m.ids.length === 1).map((m) => m.ids[0]!);
  if (endIds.length > 0 && !forcedClose.ids.some((id) => endIds.includes(id))) {
    warnings.push(
      `the forced close ${show(closeText)} holds none of the end ids [${endIds.join(", ")}]: ` +
        "the model would not see its thinking closed",
    );
  }
  return { endMarkers, waits, template, forcedClose, warnings };
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

function startsWith(ids: readonly number[], prefix: readonly number[]): boolean {
  return sameIds(ids.slice(0, prefix.length), prefix);
}

function show(text: string): string {
  return JSON.stringify(text);
}
