/**
 * The real context window, both ways: atrad learns each model's loaded window from the server
 * (Ollama /api/ps and /api/show, llama.cpp /props, vLLM max_model_len) or the provider's
 * `context_window`, lists it in /v1/models, refuses a longer prompt with Anthropic's own
 * `prompt is too long: N tokens > M maximum` 400 before forwarding it, maps each backend's
 * overflow error to the same words, and passes the window to Ollama as num_ctx so it never
 * truncates silently.
 */
import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { startOpenAIStandIn } from "../standins/mlx-lm.ts";
import { startOllamaChatStandIn } from "../standins/ollama-chat.ts";
import { startOllamaStandIn } from "../standins/ollama.ts";
import { providerToml, startTestDaemon } from "../support/daemon.ts";
import { atradInFrontOf, withAtradInFrontOf } from "../support/gateway.ts";

const standins = {
  ollama: startOllamaChatStandIn({ models: ["qwen"], window: { trained: 32768, loaded: 8192 } }),
  native: startOllamaStandIn({ models: ["qwen"], window: { trained: 32768, loaded: 8192 } }),
  llama: startOpenAIStandIn({ flavor: "piecewise", models: ["qwen"], window: { tokens: 8192, report: "props" } }),
  vllm: startOpenAIStandIn({ flavor: "piecewise", models: ["qwen"], window: { tokens: 16384, report: "max_model_len" } }),
  lmstudio: startOpenAIStandIn({ flavor: "piecewise", models: ["qwen"], window: { tokens: 8192, report: "none" } }),
  lmsRest: startOpenAIStandIn({ flavor: "piecewise", models: ["qwen"], window: { tokens: 12288, report: "lmstudio" } }),
};
const { ollama, native, llama, vllm, lmstudio, atrad, client } = await atradInFrontOf(standins, ({ ollama, native, llama, vllm, lmstudio, lmsRest }) => `
${providerToml("lmsrest", "openai", lmsRest.url)}
${providerToml("ollama", "ollama", ollama.url)}
${providerToml("native", "anthropic", native.url)}
${providerToml("llama", "openai", llama.url)}
${providerToml("vllm", "openai", vllm.url)}
${providerToml("lmstudio", "openai", lmstudio.url)}
${providerToml("configured", "openai", lmstudio.url, 'context_window = 8192')}
${providerToml("wrong", "openai", llama.url, 'context_window = 1000000')}
[routes]
default = ["ollama/qwen"]
`);

/** About 12k words: longer than an 8k window by any tokenizer's count. */
const LONG = Array.from({ length: 12_000 }, (_, i) => `w${i}`).join(" ");

async function failure(model: string) {
  const err = await client.messages.create({ model, max_tokens: 10, messages: [{ role: "user", content: LONG }] }).catch((e) => e);
  expect(err).toBeInstanceOf(Anthropic.APIError);
  return err as InstanceType<typeof Anthropic.APIError>;
}

describe("GET /v1/models lists each model's window", () => {
  test("learned from every kind's server, or configured", async () => {
    const list = (await (await fetch(`${atrad.url}/v1/models?limit=1000`)).json()) as { data: Array<{ id: string; context_window?: number }> };
    const window = (id: string) => list.data.find((m) => m.id === id)?.context_window;
    expect(window("ollama/qwen")).toBe(8192); // /api/ps: the loaded context
    expect(window("native/qwen")).toBe(8192);
    expect(window("llama/qwen")).toBe(8192); // /props n_ctx
    expect(window("vllm/qwen")).toBe(16384); // max_model_len
    expect(window("lmstudio/qwen")).toBeUndefined(); // says nothing
    expect(window("lmsrest/qwen")).toBe(12288); // LM Studio's /api/v0 loaded context
    expect(window("configured/qwen")).toBe(8192);
    // The published claude-… ids carry their target's window too.
    expect(list.data.find((m) => m.id.startsWith("claude-") && m.id.includes("vllm"))?.context_window).toBe(16384);
  });
});

describe("a prompt longer than the window: Anthropic's own 400, so Claude Code compacts", () => {
  for (const provider of ["ollama", "native", "llama", "configured"] as const) {
    test(`${provider}: refused before it is sent`, async () => {
      const before = { ollama: ollama.received.length, native: native.received.length, llama: llama.received.length, lmstudio: lmstudio.received.length };
      const err = await failure(`${provider}/qwen`);
      expect(err.status).toBe(400);
      expect((err.error as any).error.type).toBe("invalid_request_error");
      expect((err.error as any).error.message).toMatch(/^prompt is too long: \d+ tokens > 8192 maximum$/);
      const after = { ollama: ollama.received.length, native: native.received.length, llama: llama.received.length, lmstudio: lmstudio.received.length };
      expect(after).toEqual(before);
    });
  }

  test("a window atrad does not know: LM Studio's own overflow (a 500) becomes the same 400", async () => {
    const err = await failure("lmstudio/qwen");
    expect(err.status).toBe(400);
    expect((err.error as any).error.message).toMatch(/^prompt is too long: \d+ tokens > 8192 maximum$/);
  });

  test("a window configured wrong: llama.cpp's exceed_context_size_error becomes the same 400", async () => {
    const err = await failure("wrong/qwen");
    expect(err.status).toBe(400);
    expect((err.error as any).error.message).toMatch(/^prompt is too long: \d+ tokens > 8192 maximum$/);
  });

  test("a prompt that fits is served, and Ollama is told the window as num_ctx (no silent truncation)", async () => {
    const m = await client.messages.create({ model: "ollama/qwen", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
    expect(m.content[0]).toMatchObject({ type: "text" });
    expect(ollama.received.at(-1).options.num_ctx).toBe(8192);
    expect(ollama.truncated).toEqual([]);
  });
});

describe("a model Ollama has not loaded yet", () => {
  test("ollama kind: the trained maximum, but at most 32k, asked for as num_ctx; the anthropic kind, unknown", async () => {
    const trainedOnly = { trained: 262144 };
    const cold = { chat: startOllamaChatStandIn({ models: ["big"], window: trainedOnly }), native: startOllamaStandIn({ models: ["big"], window: trainedOnly }) };
    const config = ({ chat, native }: typeof cold) => providerToml("cold", "ollama", chat.url) + providerToml("coldnative", "anthropic", native.url);
    await withAtradInFrontOf(cold, config, async ({ chat, atrad }) => {
      const list = (await (await fetch(`${atrad.url}/v1/models?limit=1000`)).json()) as { data: Array<{ id: string; context_window?: number }> };
      expect(list.data.find((m) => m.id === "cold/big")?.context_window).toBe(32768);
      // Ollama's native API takes no num_ctx: until the model is loaded its window is Ollama's choice.
      expect(list.data.find((m) => m.id === "coldnative/big")?.context_window).toBeUndefined();
      const res = await fetch(`${atrad.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "cold/big", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }) });
      expect(res.status).toBe(200);
      await res.text();
      expect(chat.received.at(-1).options.num_ctx).toBe(32768);
    });
  });
});
