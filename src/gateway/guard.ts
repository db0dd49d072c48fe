/**
 * Who may call: bearer/x-api-key tokens when configured (compared in constant time), and a
 * Host check on loopback against DNS rebinding (the same defence Ollama applies on loopback).
 */
import { timingSafeEqual, createHash } from "node:crypto";
import { AtradError } from "../anthropic/errors.ts";
import { isLoopback, type Config } from "../config/load.ts";

/** Paths anyone on the allowed network may read: liveness probes (Claude Code sends HEAD /). */
const OPEN_PATHS = new Set(["/health", "/", "/api/hello"]);

const digest = (s: string) => createHash("sha256").update(s).digest();

export function tokenMatches(presented: string, tokens: string[]): boolean {
  const p = digest(presented);
  let ok = false;
  for (const t of tokens) ok = timingSafeEqual(p, digest(t)) || ok;
  return ok;
}

export function presentedToken(headers: Headers): string | undefined {
  const key = headers.get("x-api-key");
  if (key) return key;
  const auth = headers.get("authorization");
  const m = auth ? /^Bearer\s+(.+)$/i.exec(auth) : null;
  return m?.[1]?.trim();
}

/**
 * `config.server.host` here is the address the daemon is bound to (the daemon hands the gateway
 * its config bound to the listening host, so `--host 127.0.0.1` over a file's `0.0.0.0` keeps
 * the DNS-rebinding check on).
 */
export function hostAllowed(hostHeader: string | null, config: Config): boolean {
  if (!hostHeader) return true;
  const host = hostHeader.replace(/:\d+$/, "").toLowerCase();
  if (isLoopback(host)) return true;
  if (config.server.allowed_hosts.some((h) => h.toLowerCase() === host)) return true;
  // Listening beyond loopback means the operator chose remote clients: names are theirs.
  return !isLoopback(config.server.host);
}

/** Throws the error to answer with, or returns quietly when the request may proceed. */
export function checkAccess(request: Request, path: string, config: Config): void {
  if (!hostAllowed(request.headers.get("host"), config)) {
    throw new AtradError("permission_error", `Host "${request.headers.get("host")}" is not allowed; add it to server.allowed_hosts`);
  }
  const origin = request.headers.get("origin");
  if (origin && !config.server.allowed_origins.includes(origin) && !sameOrigin(origin, request)) {
    throw new AtradError("permission_error", `cross-origin requests from ${origin} are not allowed; add it to server.allowed_origins`);
  }
  const tokens = config.server.auth_tokens;
  // A CORS preflight carries no credentials by design; it reveals nothing and runs nothing.
  if (request.method === "OPTIONS" && origin) return;
  if (!tokens.length || (OPEN_PATHS.has(path) && request.method !== "POST")) return;
  const presented = presentedToken(request.headers);
  if (!presented) throw new AtradError("authentication_error", "missing API key: send x-api-key or Authorization: Bearer with one of server.auth_tokens");
  if (!tokenMatches(presented, tokens)) throw new AtradError("authentication_error", "invalid API key");
}

function sameOrigin(origin: string, request: Request): boolean {
  try {
    return new URL(origin).host === request.headers.get("host");
  } catch {
    return false;
  }
}
