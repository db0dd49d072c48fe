/** The `anthropic` kind: an upstream that speaks the Messages API itself (Ollama ≥ 0.14, Anthropic). */
import { anthropicAdapter } from "./adapter.ts";
import { ollamaWindow } from "../shared/window.ts";
import { defineSpec, providerTable, streamingKeys, type Resolved } from "../schema.ts";

const table = providerTable("anthropic", { modes: ["native", "prompt", "none"], default: "native" }, streamingKeys);
export type AnthropicProvider = Resolved<typeof table>;

export const anthropicSpec = defineSpec(table, {
  adapter: anthropicAdapter,
  listsModels: true,
  // Ollama's native API says its window through its own routes; Anthropic's hosts don't.
  contextWindow: async (p, model, signal) => (await ollamaWindow(p, p.urls[0]!, model, signal)) ?? "unknown",
});
