/**
 * Model ids Claude Code's `/model` picker will show. With
 * CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY=1, Claude Code 2.1.330 lists `GET /v1/models` but
 * keeps only ids that start with `claude` or `anthropic`, so `ollama/qwen2.5-coder:32b` never
 * reaches the picker. atrad therefore also publishes each route, alias and discovered model as
 * `claude-…` (a readable slug), and resolves those ids back before any other rule — so a local
 * model whose name contains "haiku" is never tier-routed by accident.
 */
import type { Routes } from "../config/load.ts";
import { parseTarget, type Target } from "./resolve.ts";

export interface Published {
  id: string;
  display_name: string;
  rule: string;
  targets: Target[];
}

export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "");
}

export function publishIds(
  routes: Routes,
  discovered: Array<{ provider: string; models: string[] }>,
  modelless: string[],
): Published[] {
  const out: Published[] = [];
  const taken = new Set<string>();
  const add = (base: string, display: string, rule: string, targets: Target[]) => {
    let id = base;
    // Two names may slug alike ("a:b" and "a-b"): later ones get a counter, stable in order.
    for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
    taken.add(id);
    out.push({ id, display_name: display, rule, targets });
  };
  for (const tier of ["opus", "sonnet", "haiku", "default"] as const) {
    const targets = routes[tier];
    if (targets?.length) add(`claude-route-${tier}`, `${tier} route · ${targets.join(" → ")}`, tier, targets.map(parseTarget));
  }
  for (const [alias, targets] of Object.entries(routes.aliases)) {
    add(`claude-alias-${slug(alias)}`, `${alias} · ${targets.join(" → ")}`, `alias:${alias}`, targets.map(parseTarget));
  }
  for (const { provider, models } of discovered) {
    for (const model of models) add(`claude-${slug(provider)}-${slug(model)}`, `${model} · ${provider}`, "direct", [{ provider, model }]);
  }
  for (const provider of modelless) add(`claude-${slug(provider)}`, `${provider} · orchestrator`, "direct", [{ provider, model: "" }]);
  return out;
}
