/** The `ollama` kind: Ollama's native /api/chat (and servers imitating it, like the ATRA MLX server). */
import { Type } from "@sinclair/typebox";
import { ollamaAdapter } from "./adapter.ts";
import { defineSpec, providerTable, streamingKeys, type Resolved } from "../schema.ts";

const table = providerTable(
  "ollama",
  { modes: ["native", "prompt", "none"], default: "native" },
  {
    ...streamingKeys,
    /** Context window sent as options.num_ctx (lifts Ollama's silent truncation). */
    num_ctx: Type.Optional(Type.Integer({ minimum: 1 })),
  },
);
export type OllamaProvider = Resolved<typeof table>;

export const ollamaSpec = defineSpec(table, { adapter: ollamaAdapter, listsModels: true });
