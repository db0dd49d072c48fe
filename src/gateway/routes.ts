/**
 * The gateway's routing table: a dozen fixed paths and three with parameters, so a table and
 * a loop instead of a framework. Elysia did this before; it was half the executable's bundle
 * and ~10 MB of the daemon's resting RSS (BENCHMARKS.md, "Issue 20: resting weight").
 *
 * A handler returns a Response, or a value that becomes JSON (a string becomes text/plain);
 * what it throws is the caller's to put in the envelope. A path matches with or without one
 * trailing slash; a HEAD request takes the GET route when the path has no HEAD route of its own
 * (the server sends no body for HEAD).
 */

export type Method = "GET" | "HEAD" | "POST";

export interface RouteContext {
  request: Request;
  url: URL;
  /** `:name` segments, %-decoded; `*` is the rest of the path, as sent (the route decodes it). */
  params: Record<string, string>;
  query: URLSearchParams;
}

export interface Route {
  method: Method;
  /** `/v1/models`, `/atrad/sessions/:id`, `/v1/models/*` */
  path: string;
  handler: (ctx: RouteContext) => unknown;
}

export type Routes = readonly Route[];

export interface Matched {
  route: Route;
  params: Record<string, string>;
}

const NO_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** A compiled table: exact paths in a map (the hot path is one lookup), patterns in a list. */
export function routeTable(routes: Routes): (method: string, path: string) => Matched | undefined {
  const exact = new Map<string, Route>();
  const patterns: Array<{ route: Route; segments: string[] }> = [];
  for (const route of routes) {
    if (route.path.includes(":") || route.path.includes("*")) patterns.push({ route, segments: route.path.split("/") });
    else if (!exact.has(`${route.method} ${route.path}`)) exact.set(`${route.method} ${route.path}`, route);
  }
  const find = (method: string, path: string): Matched | undefined => {
    const hit = exact.get(`${method} ${path}`);
    if (hit) return { route: hit, params: NO_PARAMS };
    const parts = path.split("/");
    for (const { route, segments } of patterns) {
      if (route.method !== method) continue;
      const params = matchSegments(segments, parts);
      if (params) return { route, params };
    }
    return undefined;
  };
  return (method, rawPath) => {
    const path = rawPath.length > 1 && rawPath.endsWith("/") ? rawPath.slice(0, -1) : rawPath;
    return find(method, path) ?? (method === "HEAD" ? find("GET", path) : undefined);
  };
}

/** Throws URIError for a malformed %-escape in a `:name` segment. */
function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p === "*" && i === pattern.length - 1) {
      if (parts.length <= i) return undefined;
      params["*"] = parts.slice(i).join("/");
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (p.startsWith(":")) {
      if (!part) return undefined;
      params[p.slice(1)] = decodeURIComponent(part);
    } else if (p !== part) return undefined;
  }
  return parts.length === pattern.length ? params : undefined;
}

const JSON_TYPE = { "content-type": "application/json;charset=utf-8" };
const TEXT_TYPE = { "content-type": "text/plain;charset=utf-8" };

/** A handler's value as a response. */
export function toResponse(value: unknown): Response {
  if (value instanceof Response) return value;
  if (typeof value === "string") return new Response(value, { headers: TEXT_TYPE });
  if (value === undefined) return new Response(null);
  return new Response(JSON.stringify(value), { headers: JSON_TYPE });
}
