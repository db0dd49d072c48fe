/**
 * The only list of provider kinds. A kind is a folder under src/providers/ with a spec.ts;
 * adding one is that folder plus one line here. Everything else — the config schema, the
 * router, the model catalog, `doctor` — asks the spec and never tests a kind's name.
 */
import { Type } from "@sinclair/typebox";
import { anthropicSpec } from "./anthropic/spec.ts";
import { ollamaSpec } from "./ollama/spec.ts";
import { openaiSpec } from "./openai/spec.ts";
import type { Resolved } from "./schema.ts";
import type { Adapter, ProviderSpec } from "./types.ts";
import { victoriaSpec } from "./victoria/spec.ts";

const SPECS = [anthropicSpec, openaiSpec, ollamaSpec, victoriaSpec] as const;

type AnySpec = (typeof SPECS)[number];
export type Kind = AnySpec["kind"];
/** A resolved provider of one kind (or of any kind): its table's `Static`, defaults filled. */
export type Provider<K extends Kind = Kind> = K extends Kind ? Resolved<Extract<AnySpec, { kind: K }>["table"]> : never;

/** Every kind has a spec whose name is its key; the compiler refuses a kind without one. */
export const registry = Object.fromEntries(SPECS.map((s) => [s.kind, s])) as unknown as { [K in Kind]: Extract<AnySpec, { kind: K }> } satisfies Record<
  Kind,
  ProviderSpec<any, any>
>;

export const KINDS = SPECS.map((s) => s.kind) as Kind[];

export function isKind(x: unknown): x is Kind {
  return typeof x === "string" && Object.hasOwn(registry, x);
}

/** The spec of a provider's kind, typed for any provider (each spec only ever sees its own kind). */
export function specOf(provider: Provider | Kind): ProviderSpec<any, Provider> {
  return registry[typeof provider === "string" ? provider : provider.kind] as ProviderSpec<any, Provider>;
}

export function adapterOf(provider: Provider): Adapter {
  return specOf(provider).adapter;
}

/** The config's `[providers.<name>]` table: one closed table per kind, told apart by `kind`. */
export const ProviderTable = Type.Union(
  SPECS.map((s) => s.table),
  // The empty default lets Value.Default reach into each table of the providers record.
  { discriminator: "kind", default: {} },
);
