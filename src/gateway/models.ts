/**
 * GET /v1/models in Anthropic's shape: configured routes and aliases, then every
 * `provider/model` the providers report, then bare provider names of model-less kinds.
 */
import { Elysia } from "elysia";
import { notFound } from "../anthropic/errors.ts";
import { specOf } from "../providers/index.ts";
import { formatTarget, parseTarget } from "../router/resolve.ts";
import type { GatewayDeps } from "./deps.ts";

export interface ModelInfo {
  type: "model";
  id: string;
  display_name: string;
  created_at: string;
  /**
   * The served model's context window in tokens, when atrad knows it (configured, or learned
   * from the server). Not part of Anthropic's listing; clients that don't know it ignore it.
   */
  context_window?: number;
}

/** How long a listing waits for windows not yet learned (Claude Code's discovery gives up after 3 s). */
const WINDOW_WAIT_MS = 1500;

// A fixed date: these ids are not releases, and a stable value keeps listings comparable.
const CREATED = "2026-01-01T00:00:00Z";

export async function listModels(deps: GatewayDeps): Promise<ModelInfo[]> {
  const config = deps.config();
  const out: ModelInfo[] = [];
  const seen = new Set<string>();
  const served = new Map<ModelInfo, string>();
  const add = (id: string, display: string, target?: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    const info: ModelInfo = { type: "model", id, display_name: display, created_at: CREATED };
    out.push(info);
    if (target) served.set(info, target);
  };
  const routes = config.routes;
  // Tier names resolve as model names; the request-class routes are chosen by headers, not listed.
  for (const tier of ["opus", "sonnet", "haiku"] as const) {
    const targets = routes[tier];
    if (targets?.length) add(tier, `${tier} → ${targets.join(", ")}`, targets[0]);
  }
  for (const [alias, targets] of Object.entries(routes.aliases)) add(alias, `${alias} → ${targets.join(", ")}`, targets[0]);
  for (const { provider, models } of await deps.router.catalog.all()) {
    for (const m of models) add(`${provider}/${m}`, `${m} · ${provider}`, `${provider}/${m}`);
  }
  for (const p of config.providers) if (!specOf(p).capabilities.listsModels) add(p.name, `${p.name} · ${p.kind}`);
  // The same again under ids Claude Code's /model picker keeps (they must start with "claude").
  for (const p of await deps.router.published()) add(p.id, p.display_name, p.targets[0] && formatTarget(p.targets[0]));
  await Promise.all(
    [...served].map(async ([info, target]) => {
      const { provider: name, model } = parseTarget(target);
      const provider = config.providers.find((p) => p.name === name);
      const window = provider && model ? await deps.router.windows.within(provider, model, WINDOW_WAIT_MS) : undefined;
      if (window) info.context_window = window;
    }),
  );
  return out;
}

export function modelsRoutes(deps: GatewayDeps) {
  return new Elysia({ name: "models" })
    .get("/v1/models", async ({ query }) => {
      const all = await listModels(deps);
      const limit = Math.min(1000, Math.max(1, Number(query.limit ?? 20) || 20));
      let start = 0;
      let end = all.length;
      if (query.after_id) start = all.findIndex((m) => m.id === query.after_id) + 1;
      if (query.before_id) end = Math.max(0, all.findIndex((m) => m.id === query.before_id));
      const page = query.before_id ? all.slice(Math.max(start, end - limit), end) : all.slice(start, start + limit);
      const hasMore = query.before_id ? end - limit > start : start + limit < end;
      return { data: page, has_more: hasMore, first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null };
    })
    .get("/v1/models/*", async ({ params }) => {
      const id = decodeURIComponent(params["*"]);
      const model = (await listModels(deps)).find((m) => m.id === id);
      if (!model) throw notFound(`model "${id}" is not served by atrad (see GET /v1/models)`);
      return model;
    });
}
