/** The `openai` kind: Chat Completions servers (LM Studio, vLLM, llama.cpp, mlx_lm.server, OpenAI). */
import { apiBase, openaiAdapter } from "./adapter.ts";
import { openaiWindow } from "../shared/window.ts";
import { defineSpec, providerTable, streamingKeys, type Resolved } from "../schema.ts";

const table = providerTable("openai", { modes: ["native", "prompt", "none"], default: "native" }, streamingKeys);
export type OpenaiProvider = Resolved<typeof table>;

export const openaiSpec = defineSpec(table, {
  adapter: openaiAdapter,
  listsModels: true,
  contextWindow: async (p, model, signal) => (await openaiWindow(p, apiBase(p.urls[0]!), model, signal)) ?? "unknown",
});
