/**
 * The gateway: its route groups composed into one table (routes.ts), behind the access guard.
 * Every error, including routing misses, leaves in Anthropic's envelope.
 */
import { AtradError, notFound } from "../anthropic/errors.ts";
import type { GatewayDeps } from "./deps.ts";
import { checkAccess } from "./guard.ts";
import { errorResponse } from "./lifecycle.ts";
import { messagesRoutes } from "./messages.ts";
import { modelsRoutes } from "./models.ts";
import { routeTable, toResponse, type Routes } from "./routes.ts";

export interface GatewayApp {
  handle(request: Request): Promise<Response>;
}

export function createApp(deps: GatewayDeps): GatewayApp {
  const find = routeTable([...ownRoutes(deps), ...(deps.routes ?? []), ...messagesRoutes(deps), ...modelsRoutes(deps)]);
  return {
    async handle(request) {
      const url = new URL(request.url);
      try {
        checkAccess(request, url.pathname, deps.config());
      } catch (err) {
        return errorResponse(err);
      }
      // A configured browser origin (server.allowed_origins) gets CORS: a preflight answer,
      // and the allow-origin header on the real response. Unlisted origins were refused above.
      const origin = request.headers.get("origin");
      const cors = origin && deps.config().server.allowed_origins.includes(origin) ? corsHeaders(origin, request) : undefined;
      if (cors && request.method === "OPTIONS") return new Response(null, { status: 204, headers: cors });
      const response = await answer(request, url);
      return cors ? withHeaders(response, cors) : response;
    },
  };

  async function answer(request: Request, url: URL): Promise<Response> {
    try {
      const hit = find(request.method, url.pathname);
      if (!hit) return errorResponse(notFound("not found: atrad serves /v1/messages, /v1/messages/count_tokens, /v1/models and /health"));
      const response = toResponse(await hit.route.handler({ request, url, params: hit.params, query: url.searchParams }));
      if (request.method !== "HEAD" || !response.body) return response;
      void response.body.cancel().catch(() => {});
      return new Response(null, { status: response.status, headers: response.headers });
    } catch (err) {
      // decodeURIComponent of a path parameter: a malformed %-escape is the client's mistake.
      if (err instanceof URIError) return errorResponse(new AtradError("invalid_request_error", `malformed %-escape in the path: ${err.message}`));
      return errorResponse(err);
    }
  }
}

function ownRoutes(deps: GatewayDeps): Routes {
  const ok = () => new Response(null, { status: 200 });
  return [
    // pid: `atrad install` checks that the daemon answering is the one it just started.
    { method: "GET", path: "/health", handler: () => ({ status: "ok", version: deps.version, uptime_s: Math.round((Date.now() - deps.startedAt) / 1000), pid: process.pid }) },
    // Claude Code probes both at start-up.
    { method: "HEAD", path: "/", handler: ok },
    { method: "HEAD", path: "/api/hello", handler: ok },
    { method: "GET", path: "/api/hello", handler: () => ({ status: "ok" }) },
    {
      method: "GET",
      path: "/atrad/status",
      handler: () => {
        if (!deps.status) throw new AtradError("not_found_error", "status is not available");
        return deps.status();
      },
    },
    {
      method: "POST",
      path: "/atrad/reload",
      handler: async () => {
        if (!deps.reload) throw notFound("reload is not available");
        const result = await deps.reload();
        return new Response(JSON.stringify(result), { status: result.ok ? 200 : 400, headers: { "content-type": "application/json" } });
      },
    },
    // `atrad launch` asks for this before Claude Code's first turn (router/warmup.ts).
    { method: "POST", path: "/atrad/warmup", handler: ({ query }) => deps.router.warmup(query.get("model") ?? "opus", AbortSignal.timeout(10 * 60_000)) },
    { method: "GET", path: "/atrad/requests", handler: () => ({ requests: deps.recent?.() ?? [] }) },
    {
      method: "GET",
      path: "/atrad/sessions/:id",
      handler: ({ params }) => {
        const found = deps.session?.(params.id!);
        if (!found) throw notFound(`no request seen yet for session ${params.id}`);
        return found;
      },
    },
    {
      method: "GET",
      path: "/metrics",
      handler: async () => {
        if (!deps.metrics) throw new AtradError("not_found_error", "metrics are not available");
        const { body, contentType } = await deps.metrics();
        return new Response(body, { headers: { "content-type": contentType } });
      },
    },
  ];
}

/** `response` with `headers` added (a Response whose headers are immutable is rebuilt). */
function withHeaders(response: Response, headers: Record<string, string>): Response {
  try {
    for (const [k, v] of Object.entries(headers)) response.headers.set(k, v);
    return response;
  } catch {
    const merged = new Headers(response.headers);
    for (const [k, v] of Object.entries(headers)) merged.set(k, v);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers: merged });
  }
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

