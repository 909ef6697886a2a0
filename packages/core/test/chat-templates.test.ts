import { describe, expect, it } from "vitest";
import { S1, THINK_TAGS, chatTemplateFamilyFor, renderChatPrompt } from "../src/index.ts";

const ask = [{ role: "user" as const, content: "Q" }];

describe("family chat templates (docs/models.md)", () => {
  it("renders each family exactly as the brief shows, ending where the model thinks", () => {
    expect(renderChatPrompt(ask, { model: "Qwen/Qwen3-8B", format: THINK_TAGS })).toBe(
      "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\n",
    );
    expect(renderChatPrompt(ask, { model: "Qwen/QwQ-32B", format: THINK_TAGS })).toBe(
      "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\n",
    );
    expect(
      renderChatPrompt(ask, {
        model: "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
        format: THINK_TAGS,
      }),
    ).toBe("<｜begin▁of▁sentence｜><｜User｜>Q<｜Assistant｜><think>\n");
    expect(renderChatPrompt(ask, { model: "simplescaling/s1.1-32B", format: S1 })).toBe(
      "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n" +
        "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<|im_start|>think",
    );
  });

  it("picks the family from the model name, and lets the caller override it", () => {
    expect(chatTemplateFamilyFor("simplescaling/s1-32B")).toBe("s1");
    expect(chatTemplateFamilyFor("unsloth/Qwen3-0.6B-GGUF")).toBe("qwen3");
    expect(chatTemplateFamilyFor("my-model")).toBe("chatml");
    expect(
      renderChatPrompt(ask, { model: "my-model", family: "deepseek-r1", format: THINK_TAGS }),
    ).toContain("<｜User｜>Q");
  });

  it("refuses an empty conversation", () => {
    expect(() => renderChatPrompt([], { format: THINK_TAGS })).toThrow(/at least one message/);
  });
});
