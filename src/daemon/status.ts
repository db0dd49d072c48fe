/** The status document of DESIGN §6, built from what the daemon already knows. */
import type { Config } from "../config/load.ts";
import type { Router } from "../router/router.ts";
import { VERSION } from "../version.ts";

export interface StatusDocument {
  daemon: { running: boolean; pid: number | null; version: string; url: string; uptime_s: number | null };
  providers: Array<{ name: string; kind: string; url: string; state: string; models: string[]; error?: string }>;
  services: Array<Record<string, unknown>>;
}

export async function buildStatus(ctx: { config: Config; router: Router; startedAt: number; url: string }): Promise<StatusDocument> {
  const providers = ctx.config.providers.map((p) => {
    const known = ctx.router.catalog.known(p.name);
    return {
      name: p.name,
      kind: p.kind,
      url: p.urls[0]!,
      state: known.error ? "down" : "up",
      models: known.models,
      ...(known.error ? { error: known.error } : {}),
    };
  });
  return {
    daemon: { running: true, pid: process.pid, version: VERSION, url: ctx.url, uptime_s: Math.round((Date.now() - ctx.startedAt) / 1000) },
    providers,
    services: [],
  };
}
