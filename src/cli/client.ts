/** How CLI commands find and talk to the running daemon: its URL and admin token from config. */
import { loadConfig } from "../config/load.ts";

export interface DaemonClient {
  url: string;
  headers: Record<string, string>;
}

export function daemonClient(env: Record<string, string | undefined>, urlOverride?: string): DaemonClient {
  let url = urlOverride ?? env.ATRAD_URL;
  let token: string | undefined;
  try {
    const config = loadConfig({ env });
    // A daemon bound to every interface is still reached on loopback.
    const host = ["0.0.0.0", "::"].includes(config.server.host) ? "127.0.0.1" : config.server.host;
    url ??= `http://${host.includes(":") ? `[${host}]` : host}:${config.server.port}`;
    token = config.server.authTokens[0];
  } catch {
    url ??= "http://127.0.0.1:8040";
  }
  return { url: url.replace(/\/+$/, ""), headers: token ? { authorization: `Bearer ${token}` } : {} };
}
