/**
 * The status page's routes. `GET /` answers browsers with the page and everything else with
 * a short JSON hint (the page holds no data, so `/` can stay open for Claude Code's probes);
 * the data comes from `/atrad/ui/state`, which the gateway's guard protects like every
 * `/atrad/*` path. The daemon mounts these on the gateway (GatewayDeps.routes).
 */
import { Elysia } from "elysia";
import type { RequestRecord } from "../gateway/record.ts";
import type { StatusDocument } from "../observe/status-document.ts";
import { statusPage } from "./page.ts";
import type { UiState } from "./types.ts";

/** What the page's routes read; the daemon supplies it. */
export interface UiDeps {
  version: string;
  /** The configured providers' names, in config order (one sparkline each). */
  providers(): string[];
  status?: () => Promise<StatusDocument>;
  recent?: () => RequestRecord[];
  series?: (provider: string) => number[];
}

export function wantsHtml(request: Request): boolean {
  return (request.headers.get("accept") ?? "").includes("text/html");
}

export function uiRoutes(deps: UiDeps) {
  return new Elysia({ name: "atrad-ui" })
    .get("/", async ({ request }) => {
      if (!wantsHtml(request)) return { status: "ok", service: "atrad", version: deps.version, status_page: "open this address in a browser" };
      const page = await statusPage();
      return new Response(page.html, { headers: page.headers });
    })
    .get("/atrad/ui/state", async () => {
      const state: UiState = {
        status: (await deps.status?.()) ?? null,
        requests: deps.recent?.() ?? [],
        series: Object.fromEntries(deps.providers().map((p) => [p, deps.series?.(p) ?? []])),
        now: new Date().toISOString(),
      };
      return new Response(JSON.stringify(state), { headers: { "content-type": "application/json", "cache-control": "no-store" } });
    });
}
