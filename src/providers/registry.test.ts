import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { KINDS, ProviderTable, registry, type Kind } from "./registry.ts";
import type { ProviderSpec } from "./types.ts";

// The compiler's half of the proof: a Kind without a spec (or a spec under another kind's
// name) does not type-check here.
const typed: { [K in Kind]: ProviderSpec<any, any> & { kind: K } } = registry;

const folders = readdirSync(import.meta.dir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && readdirSync(join(import.meta.dir, d.name)).includes("spec.ts"))
  .map((d) => d.name);

describe("provider registry", () => {
  test("EveryKindFolder_IsRegistered: each src/providers/<kind>/spec.ts is the registry's spec of that kind", async () => {
    expect(folders.length).toBeGreaterThan(0);
    for (const folder of folders) {
      const mod = (await import(`./${folder}/spec.ts`)) as Record<string, unknown>;
      const specs = Object.values(mod).filter((v): v is ProviderSpec => typeof v === "object" && v !== null && "table" in v && "adapter" in v);
      expect(specs.length).toBe(1);
      const spec = specs[0]!;
      expect(spec.kind).toBe(folder);
      expect(registry[spec.kind as Kind] as unknown).toBe(spec);
    }
    expect([...KINDS].sort() as string[]).toEqual([...folders].sort());
  });

  test("ConfigUnion_IsTheRegistry: the providers' config tables are exactly the kinds' tables", () => {
    const tags = ProviderTable.anyOf.map((t) => (t.properties.kind as { const: string }).const);
    expect(tags).toEqual(KINDS);
    for (const kind of KINDS) expect(ProviderTable.anyOf).toContain(typed[kind].table as never);
  });

  test.each(KINDS)("Spec_%s: a complete spec (tool modes from its table, adapter, model listing, context window)", async (kind) => {
    const spec = registry[kind] as unknown as ProviderSpec<any, any>;
    expect(spec.capabilities.toolModes.length).toBeGreaterThan(0);
    // The table's default tool mode is one the kind supports.
    expect(spec.capabilities.toolModes).toContain((spec.table.properties.tools as { default: string }).default as never);
    expect(typeof spec.adapter.call).toBe("function");
    expect(typeof spec.listModels).toBe("function");
    const provider = { name: "p", kind, urls: ["http://127.0.0.1:9"], timeout_s: 1 };
    expect(await spec.contextWindow(provider, "m", AbortSignal.timeout(1000))).toBe("unknown");
    // A kind that names no models lists none without asking anyone (port 9 would refuse).
    if (!spec.capabilities.listsModels) expect(await spec.listModels(provider, provider.urls[0]!, AbortSignal.timeout(1000))).toEqual([]);
  });
});
