/** Protocol kind → adapter. Providers are config; this table is the only code that picks. */
import type { Kind } from "../config/schema.ts";
import { anthropicAdapter } from "./anthropic/adapter.ts";
import { ollamaAdapter } from "./ollama/adapter.ts";
import { openaiAdapter } from "./openai/adapter.ts";
import type { Adapter } from "./types.ts";
import { victoriaAdapter } from "./victoria/adapter.ts";

export const adapters: Record<Kind, Adapter> = {
  anthropic: anthropicAdapter,
  openai: openaiAdapter,
  ollama: ollamaAdapter,
  victoria: victoriaAdapter,
};

export function adapterFor(kind: Kind): Adapter | undefined {
  return adapters[kind];
}
