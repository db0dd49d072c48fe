/** The `anthropic` kind: an upstream that speaks the Messages API itself (Ollama ≥ 0.14, Anthropic). */
import { anthropicAdapter } from "./adapter.ts";
import { defineSpec, providerTable, streamingKeys, type Resolved } from "../schema.ts";

const table = providerTable("anthropic", { modes: ["native", "prompt", "none"], default: "native" }, streamingKeys);
export type AnthropicProvider = Resolved<typeof table>;

export const anthropicSpec = defineSpec(table, { adapter: anthropicAdapter, listsModels: true });
