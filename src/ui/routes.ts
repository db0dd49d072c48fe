/**
 * The status page's routes. `GET /` answers browsers with the page and everything else with
 * a short JSON hint (the page holds no data, so `/` can stay open for Claude Code's probes);
 * the data comes from `/atrad/ui/state`, which the guard protects like every `/atrad/*` path.
 */
import { Elysia } from "elysia";
import type { GatewayDeps } from "../gateway/deps.ts";
import { statusPage } from "./page.ts";
import type { UiState } from "./types.ts";

export function wantsHtml(request: Request): boolean {
  return (request.headers.get("accept") ?? "").includes("text/html");
}

export function uiRoutes(deps: GatewayDeps) {
  return new Elysia({ name: "atrad-ui" })
    .get("/", async ({ request }) => {
      if (!wantsHtml(request)) return { status: "ok", service: "atrad", version: deps.version, status_page: "open this address in a browser" };
      const page = await statusPage();
      return new Response(page.html, { headers: page.headers });
    })
    .get("/atrad/ui/state", async () => {
      const state: UiState = {
        status: ((await deps.status?.()) ?? null) as UiState["status"],
        requests: deps.recent?.() ?? [],
        series: Object.fromEntries(deps.config().providers.map((p) => [p.name, deps.series?.(p.name) ?? []])),
        now: new Date().toISOString(),
      };
      return new Response(JSON.stringify(state), { headers: { "content-type": "application/json", "cache-control": "no-store" } });
    });
}
