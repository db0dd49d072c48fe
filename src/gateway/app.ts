/**
 * The gateway: one Elysia instance per feature, composed here. Every error, including
 * routing misses and Elysia's own, leaves in Anthropic's envelope.
 */
import { Elysia } from "elysia";
import { AtradError, notFound } from "../anthropic/errors.ts";
import type { GatewayDeps } from "./deps.ts";
import { checkAccess } from "./guard.ts";
import { errorResponse } from "./lifecycle.ts";
import { messagesRoutes } from "./messages.ts";
import { modelsRoutes } from "./models.ts";

export function createApp(deps: GatewayDeps) {
  return new Elysia()
    .onRequest(({ request, set }) => {
      try {
        checkAccess(request, new URL(request.url).pathname, deps.config());
      } catch (err) {
        return errorResponse(err);
      }
      // A configured browser origin (server.allowed_origins) gets CORS: a preflight answer,
      // and the allow-origin header on the real response. Unlisted origins were refused above.
      const origin = request.headers.get("origin");
      if (origin && deps.config().server.allowed_origins.includes(origin)) {
        const cors = corsHeaders(origin, request);
        if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: cors });
        Object.assign(set.headers, cors);
      }
    })
    .onError(({ code, error }) => {
      if (code === "NOT_FOUND") return errorResponse(notFound("not found: atrad serves /v1/messages, /v1/messages/count_tokens, /v1/models and /health"));
      // decodeURIComponent of a path parameter: a malformed %-escape is the client's mistake.
      if (error instanceof URIError) return errorResponse(new AtradError("invalid_request_error", `malformed %-escape in the path: ${error.message}`));
      if (code === "PARSE" || code === "VALIDATION") return errorResponse(new AtradError("invalid_request_error", String((error as Error).message).slice(0, 500)));
      return errorResponse(error);
    })
    // pid: `atrad install` checks that the daemon answering is the one it just started.
    .get("/health", () => ({ status: "ok", version: deps.version, uptime_s: Math.round((Date.now() - deps.startedAt) / 1000), pid: process.pid }))
    // Claude Code probes both at start-up.
    .head("/", () => new Response(null, { status: 200 }))
    .head("/api/hello", () => new Response(null, { status: 200 }))
    .get("/api/hello", () => ({ status: "ok" }))
    .get("/atrad/status", async () => {
      if (!deps.status) throw new AtradError("not_found_error", "status is not available");
      return deps.status();
    })
    .post("/atrad/reload", async () => {
      if (!deps.reload) throw notFound("reload is not available");
      const result = await deps.reload();
      return new Response(JSON.stringify(result), { status: result.ok ? 200 : 400, headers: { "content-type": "application/json" } });
    })
    // `atrad launch` asks for this before Claude Code's first turn (router/warmup.ts).
    .post("/atrad/warmup", async ({ query }) => deps.router.warmup(String(query.model ?? "opus"), AbortSignal.timeout(10 * 60_000)))
    .get("/atrad/requests", () => ({ requests: deps.recent?.() ?? [] }))
    .get("/atrad/sessions/:id", ({ params }) => {
      const found = deps.session?.(params.id);
      if (!found) throw notFound(`no request seen yet for session ${params.id}`);
      return found;
    })
    .get("/metrics", async () => {
      if (!deps.metrics) throw new AtradError("not_found_error", "metrics are not available");
      const { body, contentType } = await deps.metrics();
      return new Response(body, { headers: { "content-type": contentType } });
    })
    .use(deps.routes ?? new Elysia({ name: "atrad-no-extra-routes" }))
    .use(messagesRoutes(deps))
    .use(modelsRoutes(deps));
}

function corsHeaders(origin: string, request: Request): Record<string, string> {
  return {
    "access-control-allow-origin": origin,
    vary: "origin",
    "access-control-allow-methods": "GET, POST, HEAD, OPTIONS",
    "access-control-allow-headers": request.headers.get("access-control-request-headers") ?? "content-type, x-api-key, authorization, anthropic-version, anthropic-beta",
    "access-control-max-age": "600",
  };
}

export type GatewayApp = ReturnType<typeof createApp>;
