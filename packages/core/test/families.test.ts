import { describe, expect, it } from "vitest";
import {
  FAMILY_PROFILES,
  HARMONY,
  checkFamily,
  forcedCloseText,
  matchFamily,
  promptOpensThinking,
  resolveFormat,
} from "../src/index.ts";

describe("model families (docs/models.md)", () => {
  it("matches a model by its name, most specific family first", () => {
    const byName = (name: string) => matchFamily({ names: [name] }).family;
    expect(byName("Qwen/Qwen3-8B")).toBe("qwen3");
    expect(byName("Qwen/Qwen3-4B-Thinking-2507")).toBe("qwen3-thinking-2507");
    expect(byName("Qwen/QwQ-32B")).toBe("qwq");
    expect(byName("deepseek-ai/DeepSeek-R1")).toBe("deepseek-r1");
    expect(byName("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B")).toBe("r1-distill-qwen");
    expect(byName("deepseek-ai/DeepSeek-R1-Distill-Llama-8B")).toBe("r1-distill-llama");
    expect(byName("simplescaling/s1.1-32B")).toBe("s1");
    expect(byName("openai/gpt-oss-20b")).toBe("gpt-oss");
    expect(matchFamily({ names: ["tiny-reasoner"] })).toMatchObject({
      family: "think-tags",
      matchedBy: "fallback",
    });
  });

  it("falls back to GGUF metadata, then to the chat template, when the name says nothing", () => {
    expect(matchFamily({ names: ["model"], preTokenizer: "deepseek-r1-qwen" })).toMatchObject({
      family: "r1-distill-qwen",
      matchedBy: "metadata",
    });
    expect(matchFamily({ architecture: "gpt-oss" }).family).toBe("gpt-oss");
    expect(
      matchFamily({ chatTemplate: "{{ '<|start|>assistant<|channel|>final<|message|>' }}" }),
    ).toMatchObject({ family: "gpt-oss", matchedBy: "template" });
    expect(matchFamily({ chatTemplate: "{{'<｜Assistant｜><think>\\n'}}" }).family).toBe(
      "deepseek-r1",
    );
  });

  it("every profile's format resolves, and its budget fits its context", () => {
    for (const profile of Object.values(FAMILY_PROFILES)) {
      expect(resolveFormat(profile.format).endMarkers.length).toBeGreaterThan(0);
      expect(profile.maxThinkingTokens).toBeLessThan(profile.contextLength);
    }
  });
});

describe("harmony (gpt-oss)", () => {
  it("thinks in the analysis channel and closes into the final channel", () => {
    expect(resolveFormat("harmony")).toBe(HARMONY);
    const prompt = "<|start|>user<|message|>Q<|end|><|start|>assistant";
    expect(promptOpensThinking(HARMONY, prompt)).toBe(false);
    expect(promptOpensThinking(HARMONY, prompt + HARMONY.start)).toBe(true);
    expect(forcedCloseText(HARMONY, "so four", "Final Answer:")).toBe(
      "<|end|><|start|>assistant<|channel|>final<|message|>Final Answer:",
    );
  });
});

describe("checkFamily", () => {
  // A character-level tokenizer with `<think>`/`</think>` as single tokens when special.
  const tokenize = async (text: string, { special }: { special: boolean }) => {
    const ids: number[] = [];
    for (let i = 0; i < text.length;) {
      const tag = ["</think>", "<think>"].find((t) => text.startsWith(t, i));
      if (special && tag) {
        ids.push(tag === "<think>" ? 1000 : 1001);
        i += tag.length;
      } else {
        ids.push(text.charCodeAt(i));
        i += 1;
      }
    }
    return ids;
  };

  it("finds nothing wrong when the delimiters are single tokens and the waits merge with nothing", async () => {
    const check = await checkFamily({
      profile: FAMILY_PROFILES.qwq,
      tokenize,
      renderTemplate: async () => "<|im_start|>assistant\n<think>\n",
    });
    expect(check.warnings).toEqual([]);
    expect(check.endMarkers).toEqual([{ text: "</think>", ids: [1001] }]);
    expect(check.forcedClose.ids).toContain(1001);
  });

  it("warns about a template that does not open the thinking its family opens", async () => {
    const check = await checkFamily({
      profile: FAMILY_PROFILES.qwq,
      tokenize,
      renderTemplate: async () => "<|im_start|>assistant\n",
    });
    expect(check.warnings).toEqual([expect.stringMatching(/template opens the thinking/)]);
  });

  it("warns about an end delimiter of several tokens", async () => {
    const check = await checkFamily({
      profile: FAMILY_PROFILES.qwq,
      tokenize: (text) => tokenize(text, { special: false }),
    });
    expect(check.warnings[0]).toMatch(/"<\/think>" is 8 tokens/);
  });
});
