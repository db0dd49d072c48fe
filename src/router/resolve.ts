/**
 * Model name → ordered targets. Pure: the caller supplies the providers and, for
 * zero-config use, the models it discovered.
 */
import type { Routes } from "../config/load.ts";

export interface Target {
  provider: string;
  /** "" means: the provider's own default (Victoria has no models; others take their first). */
  model: string;
}

export const formatTarget = (t: Target) => (t.model ? `${t.provider}/${t.model}` : t.provider);

/** "provider/model" splits at the first "/" (model names such as "hf.co/x/y:q4" keep theirs). */
export function parseTarget(spec: string): Target {
  const i = spec.indexOf("/");
  return i < 0 ? { provider: spec, model: "" } : { provider: spec.slice(0, i), model: spec.slice(i + 1) };
}

export type Tier = "opus" | "sonnet" | "haiku";

export function tierOf(model: string): Tier | undefined {
  const m = model.toLowerCase();
  if (m.includes("opus")) return "opus";
  if (m.includes("sonnet")) return "sonnet";
  if (m.includes("haiku")) return "haiku";
  return undefined;
}

export interface Resolution {
  /** Which rule matched: "direct", "alias:<name>", "opus", "sonnet", "haiku", "default", "auto". */
  rule: string;
  targets: Target[];
}

/**
 * The rules, first match wins: a discoverable `claude-…` id atrad itself published, a
 * `provider/model` or bare provider name, an alias, a Claude tier with a configured route,
 * `default`, and last the automatic choice among discovered models.
 */
export function resolveModel(
  model: string,
  routes: Routes,
  providers: ReadonlySet<string>,
  auto: (tier: Tier | undefined) => Target[],
  published?: ReadonlyMap<string, Resolution>,
): Resolution {
  const exact = published?.get(model);
  if (exact) return exact;
  const direct = parseTarget(model);
  if (providers.has(direct.provider)) return { rule: "direct", targets: [direct] };
  const alias = routes.aliases[model];
  if (alias) return { rule: `alias:${model}`, targets: alias.map(parseTarget) };
  const tier = tierOf(model);
  const tierRoute = tier && routes[tier];
  if (tier && tierRoute?.length) return { rule: tier, targets: tierRoute.map(parseTarget) };
  if (routes.default.length) return { rule: "default", targets: routes.default.map(parseTarget) };
  return { rule: "auto", targets: auto(tier) };
}

/** Parameter count in billions from a model name ("qwen2.5-coder:32b" → 32, "phi3.5:3.8b" → 3.8). */
export function paramsOf(model: string): number | undefined {
  const m = /(?:^|[^a-z0-9.])(\d+(?:\.\d+)?)b(?![a-z])/i.exec(model.replace(/[:_-]/g, " "));
  return m ? Number(m[1]) : undefined;
}

/**
 * Zero-config choice (no route matched): opus/sonnet/anything → the largest model, haiku → the
 * smallest, one candidate per provider in provider order so a second one is the fallback.
 * Embedding models are skipped: they cannot chat.
 */
export function autoTargets(tier: Tier | undefined, discovered: Array<{ provider: string; models: string[] }>): Target[] {
  const out: Target[] = [];
  for (const { provider, models } of discovered) {
    const chat = models.filter((m) => !/embed/i.test(m));
    if (!chat.length) continue;
    const sized = chat.map((m, i) => ({ m, size: paramsOf(m) ?? Number.NaN, i }));
    const known = sized.filter((x) => !Number.isNaN(x.size));
    const pool = known.length ? known : sized;
    pool.sort((a, b) => (tier === "haiku" ? a.size - b.size : b.size - a.size) || a.i - b.i);
    out.push({ provider, model: pool[0]!.m });
  }
  return out;
}
