/** The `anthropic` kind: an upstream that speaks the Messages API itself (Ollama ≥ 0.14, Anthropic). */
import { anthropicAdapter } from "./adapter.ts";
import { ollamaWindows } from "../shared/window.ts";
import { defineSpec, providerTable, streamingKeys, type Resolved } from "../schema.ts";

const table = providerTable("anthropic", { modes: ["native", "prompt", "none"], default: "native" }, streamingKeys);
export type AnthropicProvider = Resolved<typeof table>;

export const anthropicSpec = defineSpec(table, {
  adapter: anthropicAdapter,
  listsModels: true,
  // Ollama's native API says the loaded window through its own routes (Anthropic's hosts don't).
  // It takes no num_ctx, so a model not loaded yet will get Ollama's own default: unknown until then.
  contextWindow: async (p, model, signal) => (await ollamaWindows(p, p.urls[0]!, model, signal)).loaded ?? "unknown",
});
