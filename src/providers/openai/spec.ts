/** The `openai` kind: Chat Completions servers (LM Studio, vLLM, llama.cpp, mlx_lm.server, OpenAI). */
import { Type } from "@sinclair/typebox";
import { apiBase, openaiAdapter } from "./adapter.ts";
import { openaiWindow } from "../shared/window.ts";
import { defineSpec, providerTable, streamingKeys, type Resolved } from "../schema.ts";

const table = providerTable(
  "openai",
  { modes: ["native", "prompt", "none"], default: "native" },
  {
    ...streamingKeys,
    /**
     * llama.cpp's `--parallel N`: each session (and agent) is pinned to one of N slots with
     * `id_slot` and `cache_prompt: true`, so no conversation evicts another's cached prompt.
     * Only for llama.cpp: other servers may refuse the fields.
     */
    slots: Type.Optional(Type.Integer({ minimum: 1 })),
  },
);
export type OpenaiProvider = Resolved<typeof table>;

export const openaiSpec = defineSpec(table, {
  adapter: openaiAdapter,
  listsModels: true,
  contextWindow: async (p, model, signal) => (await openaiWindow(p, apiBase(p.urls[0]!), model, signal)) ?? "unknown",
});
