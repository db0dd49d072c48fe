/** Protocol kind → adapter. Providers are config; this table is the only code that picks. */
import type { Kind } from "../config/schema.ts";
import { anthropicAdapter } from "./anthropic/adapter.ts";
import { openaiAdapter } from "./openai/adapter.ts";
import type { Adapter } from "./types.ts";

export const adapters: Partial<Record<Kind, Adapter>> = {
  anthropic: anthropicAdapter,
  openai: openaiAdapter,
};

export function adapterFor(kind: Kind): Adapter | undefined {
  return adapters[kind];
}
