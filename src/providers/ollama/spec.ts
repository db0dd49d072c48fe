/** The `ollama` kind: Ollama's native /api/chat (and servers imitating it, like the ATRA MLX server). */
import { Type } from "@sinclair/typebox";
import { ollamaAdapter } from "./adapter.ts";
import { ollamaWindows } from "../shared/window.ts";

/** The window asked for a model Ollama has not loaded yet (when the trained maximum is larger). */
export const UNLOADED_WINDOW = 32_768;
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
  contextWindow: async (p, model, signal) => {
    // num_ctx is what atrad asks the runner to load with, so it is the window.
    if (p.num_ctx) return p.num_ctx;
    const { loaded, trained } = await ollamaWindows(p, p.urls[0]!, model, signal);
    // Not loaded: atrad will ask for this much (as num_ctx), the trained maximum but no more
    // than a Claude Code session needs — a 256k KV cache could exhaust the machine's memory.
    return loaded ?? (trained ? Math.min(trained, UNLOADED_WINDOW) : "unknown");
  },
});
