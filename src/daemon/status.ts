/** The status document (schema: observe/status-document.ts), built from what the daemon already knows. */
import type { Config } from "../config/load.ts";
import { maskUrls } from "../mask.ts";
import type { ProviderEntry, StatusDocument } from "../observe/status-document.ts";
import type { RecentRequests } from "../observe/stats.ts";
import type { HealthView, Router } from "../router/router.ts";
import type { ServiceStatus } from "../supervisor/supervisor.ts";
import { VERSION } from "../version.ts";
import type { ConfigState } from "./reload.ts";

export async function buildStatus(ctx: {
  config: Config;
  router: Router;
  startedAt: number;
  url: string;
  recent: RecentRequests;
  configState?: ConfigState;
  services?: ServiceStatus[];
  health?: HealthView;
}): Promise<StatusDocument> {
  const providers = ctx.config.providers.map((p): ProviderEntry => {
    const known = ctx.router.catalog.known(p.name);
    const pool = ctx.router.pool(p.name);
    const limiter = ctx.router.limiter(p.name);
    // The supervisor's verdict on the backing service wins over a stale model-list error.
    const error = ctx.health?.downReason(p.name) ?? known.error;
    return {
      name: p.name,
      kind: p.kind,
      url: p.urls[0]!,
      state: error ? "down" : "up",
      models: known.models,
      ...(error ? { error } : {}),
      hosts: (pool?.hosts ?? []).map((h) => ({ url: h.url, state: pool!.state(h), in_flight: h.inFlight })),
      in_flight: limiter?.inFlight ?? 0,
      queued: limiter?.queued ?? 0,
      stats: ctx.recent.stats(p.name),
    };
  });
  // Provider and service URLs, and errors quoting them, may carry a password.
  return maskUrls({
    daemon: { running: true, pid: process.pid, version: VERSION, url: ctx.url, uptime_s: Math.round((Date.now() - ctx.startedAt) / 1000) },
    providers,
    services: ctx.services ?? [],
    routes: routeTable(ctx.config),
    ...(ctx.configState ? { config: ctx.configState } : {}),
  });
}

function routeTable(config: Config): Record<string, string[]> {
  const r = config.routes;
  const table: Record<string, string[]> = {};
  for (const tier of ["default", "opus", "sonnet", "haiku"] as const) if (r[tier]?.length) table[tier] = r[tier]!;
  for (const [alias, targets] of Object.entries(r.aliases)) table[alias] = targets;
  return table;
}
