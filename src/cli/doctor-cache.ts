/**
 * `atrad doctor`'s checks for Claude Code on local models: each routed model's context window
 * against what Claude Code needs (its system prompt and tools alone are 11k tokens headless,
 * 15–28k interactive), and how much of the last session's prompts the servers served from
 * their prefix cache (from the request log).
 */
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { ROUTE_KEYS } from "../config/schema.ts";
import type { Config } from "../config/load.ts";
import { specOf } from "../providers/index.ts";
import { parseTarget } from "../router/resolve.ts";
import { requestLogPath } from "../supervisor/logfile.ts";
import type { Check } from "./doctor.ts";

/** Below this a Claude Code session compacts all the time (or cannot start). */
export const MIN_WINDOW = 32_000;

export async function checkWindows(config: Config): Promise<Check[]> {
  const targets = new Set<string>();
  for (const key of ROUTE_KEYS) for (const t of config.routes[key] ?? []) targets.add(t);
  for (const list of Object.values(config.routes.aliases)) for (const t of list) targets.add(t);
  const out: Check[] = [];
  for (const spec of targets) {
    const t = parseTarget(spec);
    const p = config.providers.find((x) => x.name === t.provider);
    if (!p || !t.model) continue;
    const window = p.context_window ?? (await specOf(p).contextWindow(p, t.model, AbortSignal.timeout(3000)).catch(() => "unknown" as const));
    const name = `window ${spec}`;
    if (window === "unknown") out.push({ name, level: "ok", detail: "the server does not say; atrad checks no request against it", fix: undefined });
    else if (window < MIN_WINDOW)
      out.push({
        name,
        level: "warn",
        detail: `${window} tokens: Claude Code's system prompt and tools alone take 11–28k, so it will compact constantly or overflow`,
        fix: "num_ctx" in specOf(p).table.properties ? `set num_ctx = 32768 (or more) in [providers.${p.name}]` : `load the model with a context of 32k or more (or set context_window in [providers.${p.name}] if it has one)`,
      });
    else out.push({ name, level: "ok", detail: `${window} tokens` });
  }
  return out;
}

/** The request log's tail is enough for the last session. */
const TAIL_BYTES = 4 * 1024 * 1024;

function tail(file: string): string {
  const size = statSync(file).size;
  const fd = openSync(file, "r");
  try {
    const n = Math.min(size, TAIL_BYTES);
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, size - n);
    return buf.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

export function checkLastSessionCache(atradHome: string): Check {
  const name = "prompt cache";
  const file = requestLogPath(atradHome);
  if (!existsSync(file)) return { name, level: "ok", detail: "no requests logged yet" };
  const records: Array<{ session_id?: string | null; input_tokens?: number | null; cache_read_tokens?: number | null }> = [];
  for (const line of tail(file).split("\n")) {
    try {
      records.push(JSON.parse(line));
    } catch {}
  }
  const session = records.findLast((r) => r.session_id && typeof r.cache_read_tokens === "number")?.session_id;
  if (!session) return { name, level: "ok", detail: "no server has reported cache figures yet" };
  const mine = records.filter((r) => r.session_id === session && typeof r.cache_read_tokens === "number");
  // The first request of a session has nothing cached; the share counts the later ones.
  const later = mine.slice(1);
  const read = later.reduce((n, r) => n + (r.cache_read_tokens ?? 0), 0);
  const prompt = later.reduce((n, r) => n + (r.cache_read_tokens ?? 0) + (r.input_tokens ?? 0), 0);
  if (!prompt) return { name, level: "ok", detail: `last session (${session.slice(0, 8)}…): ${mine.length} request(s), too few to tell` };
  const share = read / prompt;
  const detail = `last session (${session.slice(0, 8)}…): ${Math.floor(share * 100)} % of ${later.length} prompts after its first served from the server's cache`;
  return share < 0.8
    ? { name, level: "warn", detail, fix: "each turn is prefilled again: see which kind serves it (atrad status), and whether a subagent shares its slot ([routes] subagent, or slots = N on llama.cpp)" }
    : { name, level: "ok", detail };
}
