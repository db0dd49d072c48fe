/**
 * Shared checks for the reliability suite: process-level counters (open fds, RSS, sockets),
 * the fault matrices' provider tables, and (from test/support) the well-formedness of an
 * Anthropic event stream that may end in an `error` event.
 */
import { procSockets } from "../../src/supervisor/ports.ts";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { providerToml } from "../support/daemon.ts";

export { wellFormedProblems } from "../support/stream-shape.ts";

/** The kinds that speak a streaming wire protocol the fault stand-in can break. */
export const KINDS = ["openai", "ollama", "anthropic"] as const;

/** One provider table per kind, all at `url`, named `<prefix><kind>`, with the same extra keys. */
export function tablePerKind(prefix: string, url: string, extra: string): string {
  return KINDS.map((k) => providerToml(`${prefix}${k}`, k, url, extra)).join("");
}

/** Open file descriptors of this process (Linux), or of `pid`. */
export function openFds(pid: number | "self" = "self"): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

/** Sockets among the open fds of `pid` (Linux). */
export function openSockets(pid: number | "self" = "self"): number {
  let n = 0;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:")) n++;
      } catch {}
    }
  } catch {
    return -1;
  }
  return n;
}

/** Resident set size of `pid` in bytes (Linux /proc; ps elsewhere). */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {}
  const out = Bun.spawnSync(["ps", "-o", "rss=", "-p", String(pid)]).stdout.toString().trim();
  return Number(out) * 1024;
}

/** Established TCP connections to local `port` (server side), from /proc/net/tcp{,6}. */
export function tcpConnectionsTo(port: number): number {
  return procSockets(port).filter((s) => s.state === "01").length;
}

export async function until<T>(what: string, fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
}
