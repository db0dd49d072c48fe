/** The status document (schema: observe/status-document.ts), built from what the daemon already knows. */
import { ROUTE_KEYS } from "../config/schema.ts";
import type { Config } from "../config/load.ts";
import { maskUrls } from "../mask.ts";
import type { ProviderEntry, StatusDocument } from "../observe/status-document.ts";
import type { RecentRequests } from "../observe/stats.ts";
import type { HealthView, Router } from "../router/router.ts";
import type { ServiceStatus, Supervisor } from "../supervisor/supervisor.ts";
import { VERSION } from "../version.ts";
import type { ConfigState } from "./reload.ts";

export async function buildStatus(ctx: {
  config: Config;
  router: Router;
  startedAt: number;
  url: string;
  recent: RecentRequests;
  configState?: ConfigState;
  disk?: StatusDocument["disk"];
  services?: ServiceStatus[];
  health?: HealthView;
  /** The supervisor's view of the services backing each provider. */
  watch?: Pick<Supervisor, "providerState">;
}): Promise<StatusDocument> {
  const providers = ctx.config.providers.map((p): ProviderEntry => {
    const known = ctx.router.catalog.known(p.name);
    const pool = ctx.router.pool(p.name);
    const limiter = ctx.router.limiter(p.name);
    const { state, error } = providerHealth(p.name, ctx);
    return {
      name: p.name,
      kind: p.kind,
      url: p.urls[0]!,
      state,
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
    ...(ctx.disk ? { disk: ctx.disk } : {}),
  });
}

/**
 * A provider's state from evidence only: a service watching its port says so; otherwise the
 * newest of the router's last real request and the last model-list query; with neither, "unknown".
 */
function providerHealth(name: string, ctx: { router: Router; health?: HealthView; watch?: Pick<Supervisor, "providerState"> }): { state: ProviderEntry["state"]; error?: string } {
  const watched = ctx.watch?.providerState(name);
  if (watched) return watched.state === "up" || watched.state === "degraded" ? { state: watched.state } : { state: watched.state, error: watched.reason ?? undefined };
  const down = ctx.health?.downReason(name);
  if (down) return { state: "down", error: down };
  const seen = [ctx.router.lastAttempt(name), ctx.router.catalog.observed(name)].filter((x) => x !== undefined).sort((a, b) => b.at - a.at)[0];
  if (!seen) return { state: "unknown" };
  return seen.ok ? { state: "up" } : { state: "down", error: seen.error };
}

function routeTable(config: Config): Record<string, string[]> {
  const r = config.routes;
  const table: Record<string, string[]> = {};
  for (const tier of ROUTE_KEYS) if (r[tier]?.length) table[tier] = r[tier]!;
  for (const [alias, targets] of Object.entries(r.aliases)) table[alias] = targets;
  return table;
}
