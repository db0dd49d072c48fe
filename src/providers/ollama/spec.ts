/** The `ollama` kind: Ollama's native /api/chat (and servers imitating it, like the ATRA MLX server). */
import { Type } from "@sinclair/typebox";
import { ollamaAdapter } from "./adapter.ts";
import { ollamaWindow } from "../shared/window.ts";
import { defineSpec, providerTable, streamingKeys, type Resolved } from "../schema.ts";

const table = providerTable(
  "ollama",
  { modes: ["native", "prompt", "none"], default: "native" },
  {
    ...streamingKeys,
    /** Context window sent as options.num_ctx (lifts Ollama's silent truncation). */
    num_ctx: Type.Optional(Type.Integer({ minimum: 1 })),
    /** How long Ollama keeps the model (and its prompt cache) loaded after a request: "30m", "-1" (forever), seconds. */
    keep_alive: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Number()])),
  },
);
export type OllamaProvider = Resolved<typeof table>;

export const ollamaSpec = defineSpec(table, {
  adapter: ollamaAdapter,
  listsModels: true,
  // num_ctx is what atrad asks the runner to load with, so it is the window; else what Ollama says.
  contextWindow: async (p, model, signal) => p.num_ctx ?? (await ollamaWindow(p, p.urls[0]!, model, signal)) ?? "unknown",
});
