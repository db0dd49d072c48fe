/** How CLI commands find and talk to the running daemon: its URL and admin token from config. */
import { loadConfig, type Config } from "../config/load.ts";
import { UsageError } from "./command.ts";

export interface DaemonClient {
  url: string;
  headers: Record<string, string>;
}

/** Where a client on this machine reaches the daemon (a wildcard bind is reached on loopback). */
export function connectUrl(config: Config): string {
  const h = config.server.host;
  const host = h === "0.0.0.0" || h === "::" || h === "[::]" ? "127.0.0.1" : h.includes(":") && !h.startsWith("[") ? `[${h}]` : h;
  return `http://${host}:${config.server.port}`;
}

/** A `--url` value: an http(s) address, else a usage error naming what was given. */
export function checkUrl(value: string | undefined, option = "--url"): string | undefined {
  if (value === undefined) return undefined;
  let u: URL | undefined;
  try {
    u = new URL(value);
  } catch {}
  if (!u || (u.protocol !== "http:" && u.protocol !== "https:") || !u.hostname)
    throw new UsageError(`${option} "${value}" is not an http:// address (e.g. http://127.0.0.1:8040)`);
  return value.replace(/\/+$/, "");
}

export function daemonClient(env: Record<string, string | undefined>, urlOverride?: string): DaemonClient {
  let url = checkUrl(urlOverride) ?? env.ATRAD_URL;
  let token: string | undefined;
  try {
    const config = loadConfig({ env });
    url ??= connectUrl(config);
    token = config.server.auth_tokens[0];
  } catch {
    url ??= "http://127.0.0.1:8040";
  }
  return { url: url.replace(/\/+$/, ""), headers: token ? { authorization: `Bearer ${token}` } : {} };
}
