/** The status document of DESIGN §6, built from what the daemon already knows. */
import type { Config } from "../config/load.ts";
import type { HealthView, Router } from "../router/router.ts";
import type { ServiceStatus } from "../supervisor/supervisor.ts";
import { VERSION } from "../version.ts";

export interface StatusDocument {
  daemon: { running: boolean; pid: number | null; version: string; url: string; uptime_s: number | null };
  providers: Array<{ name: string; kind: string; url: string; state: string; models: string[]; error?: string }>;
  services: ServiceStatus[];
}

export async function buildStatus(ctx: {
  config: Config;
  router: Router;
  startedAt: number;
  url: string;
  services?: ServiceStatus[];
  health?: HealthView;
}): Promise<StatusDocument> {
  const providers = ctx.config.providers.map((p) => {
    const known = ctx.router.catalog.known(p.name);
    // The supervisor's verdict on the backing service wins over a stale model-list error.
    const error = ctx.health?.downReason(p.name) ?? known.error;
    return {
      name: p.name,
      kind: p.kind,
      url: p.urls[0]!,
      state: error ? "down" : "up",
      models: known.models,
      ...(error ? { error } : {}),
    };
  });
  return {
    daemon: { running: true, pid: process.pid, version: VERSION, url: ctx.url, uptime_s: Math.round((Date.now() - ctx.startedAt) / 1000) },
    providers,
    services: ctx.services ?? [],
  };
}
