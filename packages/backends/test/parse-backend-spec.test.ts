import { describe, expect, it } from "vitest";
import { createServerBackend, parseBackendSpec } from "../src/parse-backend-spec.ts";

describe("parseBackendSpec", () => {
  it("reads each server kind with its URL", () => {
    expect(parseBackendSpec("vllm:http://localhost:8000/v1")).toEqual({
      kind: "vllm",
      url: "http://localhost:8000/v1",
    });
    expect(parseBackendSpec("llamacpp:http://localhost:8080")).toEqual({
      kind: "llamacpp",
      url: "http://localhost:8080",
    });
    expect(parseBackendSpec("openai:https://api.example.com/v1/")).toEqual({
      kind: "openai",
      url: "https://api.example.com/v1",
    });
    expect(parseBackendSpec(" ollama:http://localhost:11434 ")).toEqual({
      kind: "ollama",
      url: "http://localhost:11434",
    });
  });

  it("fixes the common URL slips: no /v1 for vLLM, a /v1 for llama.cpp or Ollama", () => {
    expect(parseBackendSpec("vllm:http://gpu-box:8000")).toEqual({
      kind: "vllm",
      url: "http://gpu-box:8000/v1",
    });
    expect(parseBackendSpec("llamacpp:http://localhost:8080/v1")).toEqual({
      kind: "llamacpp",
      url: "http://localhost:8080",
    });
    expect(parseBackendSpec("ollama:http://localhost:11434/v1/")).toEqual({
      kind: "ollama",
      url: "http://localhost:11434",
    });
    expect(parseBackendSpec("openai:https://proxy.example.com/llm/v1")).toEqual({
      kind: "openai",
      url: "https://proxy.example.com/llm/v1",
    });
  });

  it("reads embedded, with or without a model path or URI", () => {
    expect(parseBackendSpec("embedded")).toEqual({ kind: "embedded" });
    expect(parseBackendSpec("embedded:./models/tiny.gguf")).toEqual({
      kind: "embedded",
      model: "./models/tiny.gguf",
    });
    expect(parseBackendSpec("embedded:hf:bartowski/QwQ-32B-GGUF:Q4_K_M")).toEqual({
      kind: "embedded",
      model: "hf:bartowski/QwQ-32B-GGUF:Q4_K_M",
    });
  });

  it("accepts sglang as vLLM's dialect and kinds in any case", () => {
    expect(parseBackendSpec("SGLang:http://localhost:30000/v1")).toEqual({
      kind: "vllm",
      url: "http://localhost:30000/v1",
    });
    expect(parseBackendSpec("VLLM:http://h:1/v1").kind).toBe("vllm");
  });

  it.each([
    ["", /is empty/],
    ["tgi:http://localhost:3000", /Unknown backend kind "tgi".*vllm:http/],
    ["http://localhost:8000/v1", /has no backend kind.*vllm:http:\/\/localhost:8000\/v1/],
    ["vllm", /needs the server's URL/],
    ["vllm:", /needs the server's URL/],
    ["vllm:localhost:8000", /must start with http/],
    ["llamacpp:not a url", /is not a URL/],
    ["ollama:ftp://host:11434", /must start with http/],
    ["openai:https://h/v1?key=1", /query or fragment/],
    ["openai:https://user:sk-1@h/v1", /THINKSCOPE_API_KEY/],
  ])("refuses %j with a clear message", (spec, message) => {
    expect(() => parseBackendSpec(spec)).toThrow(message);
    try {
      parseBackendSpec(spec);
    } catch (error) {
      expect(error).toMatchObject({ code: "invalid_backend_spec" });
    }
  });
});

describe("createServerBackend", () => {
  it("builds the adapter for each server kind with the given id and model", () => {
    for (const kind of ["vllm", "llamacpp", "openai", "ollama"] as const) {
      const backend = createServerBackend(`${kind}:http://127.0.0.1:9`, {
        id: `my-${kind}`,
        model: "m",
        apiKey: "k",
      });
      expect(backend.kind).toBe(kind);
      expect(backend.id).toBe(`my-${kind}`);
    }
    expect(createServerBackend({ kind: "vllm", url: "http://127.0.0.1:9/v1" }).id).toBe("vllm");
  });

  it("refuses the embedded kind", () => {
    expect(() => createServerBackend("embedded")).toThrow(/server backends only/);
  });
});
