/**
 * The shape of one `[providers.<name>]` table. Every kind's table is the keys all kinds share
 * plus the kind's own options, closed, with `kind` as its literal tag: the config's providers
 * are the union of these tables, so a key of another kind is an unknown key, not a silent one.
 * Defaults are annotations on the schema (filled by `Value.Default`), so the resolved type is
 * the schema's `Static` and no loader repeats a default.
 */
import { Type, type Static, type TLiteral, type TObject, type TProperties, type TSchema } from "@sinclair/typebox";
import type { Adapter, ProviderSpec } from "./types.ts";

export type ToolMode = "native" | "prompt" | "none";

const Seconds = (fallback: number) => Type.Number({ minimum: 0, default: fallback });

/** Keys every kind takes; `tools` is limited to the modes the kind supports. */
function sharedKeys<M extends ToolMode>(modes: readonly M[], fallback: M) {
  return {
    url: Type.Optional(Type.String({ minLength: 1 })),
    urls: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    api_key: Type.Optional(Type.String()),
    api_key_env: Type.Optional(Type.String()),
    /**
     * The models' context window in tokens, instead of asking the upstream (Ollama's /api/ps,
     * llama.cpp's /props, vLLM's max_model_len, LM Studio's model info).
     */
    context_window: Type.Optional(Type.Integer({ minimum: 1 })),
    /** A fixed model list instead of asking the upstream. */
    models: Type.Optional(Type.Array(Type.String())),
    tools: Type.Union(
      modes.map((m) => Type.Literal(m)),
      { default: fallback },
    ),
    /** Requests at once (0 = no limit); more wait up to queue_timeout_s. */
    max_concurrency: Type.Integer({ minimum: 0, default: 0 }),
    /** With several urls: failures in a row before a host cools down, and for how long. */
    max_fails: Type.Integer({ minimum: 1, default: 3 }),
    cooldown_s: Seconds(30),
    queue_timeout_s: Seconds(300),
    timeout_s: Seconds(600),
    enabled: Type.Boolean({ default: true }),
  };
}

/**
 * Keys of the kinds whose answers stream through src/wire (not victoria, whose `timeout_s` is
 * already a deadline for the whole task).
 */
export const streamingKeys = {
  /**
   * The whole answer may take at most this long (0 = no limit): it ends a stream that is
   * drip-fed forever, which `timeout_s` (no content for that long) never catches. Generous,
   * because local models are slow.
   */
  response_deadline_s: Seconds(1800),
};

/** One kind's table: `kind = "<kind>"`, the shared keys, and the kind's own options. */
export function providerTable<K extends string, M extends ToolMode, O extends TProperties>(
  kind: K,
  tools: { modes: readonly M[]; default: NoInfer<M> },
  options: O,
) {
  return Type.Object({ kind: Type.Literal(kind), ...sharedKeys(tools.modes, tools.default), ...options }, { additionalProperties: false });
}

/** Keys of the table that only say where the provider is or whether it exists. */
type Located = "url" | "urls" | "api_key" | "api_key_env" | "enabled";

/**
 * A provider as the router and adapters see it: its table with defaults filled in, plus the
 * name, the trimmed host list and the key read from the environment.
 */
export type Resolved<T extends TObject> = Omit<Static<T>, Located> & { name: string; urls: string[]; apiKey?: string };

/** The literal values a schema allows (a literal, or a union of literals and other types). */
export function literalsOf(schema: TSchema): unknown[] {
  if ("const" in schema) return [schema.const];
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as TSchema[]).flatMap(literalsOf);
  return [];
}

/** Any kind's provider, as far as the shared keys go (what kind-neutral code may rely on). */
export type ProviderBase = Resolved<ReturnType<typeof providerTable<string, ToolMode, {}>>>;

/**
 * A kind's spec from its table and its code. The kind's name and tool modes are read from
 * the table, so each is written once.
 */
export function defineSpec<T extends TObject>(
  table: T,
  code: {
    adapter: Adapter<Resolved<T>>;
    listsModels: boolean;
    contextWindow?: ProviderSpec<T>["contextWindow"];
  },
): ProviderSpec<T> & { kind: Static<T>["kind"] } {
  const { adapter, listsModels } = code;
  return {
    kind: (table.properties.kind as TLiteral<string>).const as string & Static<T>["kind"],
    table,
    capabilities: { listsModels, toolModes: literalsOf(table.properties.tools!) as ToolMode[] },
    adapter,
    listModels: listsModels ? (p, url, signal) => adapter.listModels(p, url, signal) : async () => [],
    // Learning a model's window is a later step; until then every kind says so honestly.
    contextWindow: code.contextWindow ?? (async () => "unknown"),
  };
}
