/**
 * `atrad statusline`: the command for Claude Code's `statusLine` setting. Claude Code writes a
 * JSON object on stdin (with `session_id`); we print one short line: the target that served
 * that session's last request, its health, and its time to first token. It must never fail
 * loudly — a broken status line is worse than a quiet one.
 */
import { cacheShare, type RequestRecord } from "../gateway/record.ts";
import { daemonClient } from "./client.ts";
import type { Input } from "./command.ts";
import type { statuslineOptions } from "./commands.ts";
import type { CliIO } from "./io.ts";

export interface SessionInfo {
  last: RequestRecord;
  provider_state: string;
}

const DOT: Record<string, string> = { up: "●", degraded: "◐", down: "○" };

/** Pure: what the line says. */
export function formatStatusline(info: SessionInfo | undefined, daemonUp: boolean, color = false): string {
  if (!daemonUp) return "atrad ○ not running";
  if (!info) return "atrad ● waiting for the first request";
  const r = info.last;
  const paint = (code: number, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const state = info.provider_state;
  const dot = paint(state === "up" ? 32 : state === "down" ? 31 : 33, DOT[state] ?? "?");
  const parts = [`atrad ${dot} ${r.target ?? r.model}`];
  if (r.fallbacks.length) parts.push(`after ${r.fallbacks.map((f) => f.target).join(", ")}`);
  if (r.ttft_ms !== null) parts.push(`ttft ${r.ttft_ms < 1000 ? `${r.ttft_ms}ms` : `${(r.ttft_ms / 1000).toFixed(1)}s`}`);
  // How much of the prompt the local server did not have to prefill again.
  const share = cacheShare(r);
  if (share !== undefined) parts.push(`cache ${Math.floor(share * 100)} %`);
  if (r.status >= 400) parts.push(paint(31, `error ${r.status}`));
  return parts.join(" · ");
}

export const TTY_HINT =
  "atrad statusline: the command for Claude Code's statusLine setting. Claude Code runs it with the\n" +
  "session as JSON on stdin (`atrad launch claude` sets that up); typed here, there is no session,\n" +
  `so this is the daemon's line:  (try: echo '{"session_id":"…"}' | atrad statusline)\n`;

export async function statuslineCommand({ values }: Input<typeof statuslineOptions>, io: CliIO): Promise<number> {
  // Typed in a terminal, nothing will ever arrive on stdin: say what this is instead of waiting.
  if (io.stdinIsTTY) io.err(TTY_HINT);
  const input = io.stdinIsTTY ? "" : ((await io.stdin?.().catch(() => "")) ?? "");
  let sessionId: string | undefined;
  try {
    sessionId = (JSON.parse(input) as { session_id?: string }).session_id;
  } catch {}
  const { url, headers } = daemonClient(io.env, values.url);
  let info: SessionInfo | undefined;
  let up = true;
  try {
    if (sessionId) {
      const res = await fetch(`${url}/atrad/sessions/${encodeURIComponent(sessionId)}`, { headers, signal: AbortSignal.timeout(1000) });
      if (res.ok) info = (await res.json()) as SessionInfo;
    } else {
      up = (await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })).ok;
    }
  } catch {
    up = false;
  }
  io.out(formatStatusline(info, up, !values.plain) + "\n");
  return 0;
}
