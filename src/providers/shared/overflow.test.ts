import { describe, expect, test } from "bun:test";
import { overflowOf } from "./overflow.ts";

describe("each backend's overflow error, read as [prompt tokens, window]", () => {
  const cases: Array<{ name: string; body: string; want: [number, number] | undefined }> = [
    {
      name: "llama.cpp exceed_context_size_error",
      body: JSON.stringify({ error: { code: 400, message: "the request exceeds the available context size, try increasing it", type: "exceed_context_size_error", n_prompt_tokens: 9100, n_ctx: 8192 } }),
      want: [9100, 8192],
    },
    {
      name: "vLLM maximum context length",
      body: JSON.stringify({ object: "error", message: "This model's maximum context length is 8192 tokens. However, you requested 9100 tokens (9000 in the messages, 100 in the completion). Please reduce the length of the messages or completion.", type: "BadRequestError", code: 400 }),
      want: [9000, 8192],
    },
    {
      name: "OpenAI context_length_exceeded wording",
      body: JSON.stringify({ error: { message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 130001 tokens. Please reduce the length of the messages.", type: "invalid_request_error", code: "context_length_exceeded" } }),
      want: [130001, 128000],
    },
    {
      name: "LM Studio context overflow",
      body: JSON.stringify({ error: "Trying to keep the first 9100 tokens when context the overflows. However, the model is loaded with context length of only 8192 tokens, which is not enough." }),
      want: [9100, 8192],
    },
    { name: "Ollama refusing instead of truncating", body: JSON.stringify({ error: "input length (9100) exceeds maximum context length (8192)" }), want: [9100, 8192] },
    { name: "Anthropic's own wording is not re-read", body: JSON.stringify({ type: "error", error: { type: "invalid_request_error", message: "prompt is too long: 210000 tokens > 200000 maximum" } }), want: undefined },
    { name: "an unrelated 400", body: JSON.stringify({ error: { message: "model not found" } }), want: undefined },
    { name: "not JSON", body: "Internal Server Error", want: undefined },
  ];
  for (const c of cases) test(c.name, () => expect(overflowOf(c.body, 0)).toEqual(c.want));
});
