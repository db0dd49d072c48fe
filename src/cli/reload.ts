/** `atrad reload`: re-read the config in the running daemon (same as SIGHUP). */
import { daemonClient } from "./client.ts";
import { EXIT_DAEMON_DOWN, type Input } from "./command.ts";
import type { reloadOptions } from "./commands.ts";
import type { CliIO } from "./io.ts";

export async function reloadCommand({ values }: Input<typeof reloadOptions>, io: CliIO): Promise<number> {
  const { url, headers } = daemonClient(io.env, values.url);
  let res: Response;
  try {
    res = await fetch(`${url}/atrad/reload`, { method: "POST", headers, signal: AbortSignal.timeout(10_000) });
  } catch {
    io.err(`atrad reload: no daemon answers at ${url} (start it with \`atrad start\` or \`atrad serve\`)\n`);
    return EXIT_DAEMON_DOWN;
  }
  const body = (await res.json().catch(() => ({}))) as { ok?: boolean; error?: string; changed?: boolean };
  if (!res.ok || !body.ok) {
    io.err(`atrad reload: rejected — the running config stays.\n${body.error ?? `HTTP ${res.status}`}\n`);
    return 1;
  }
  io.out(body.changed ? "config reloaded\n" : "config reloaded (nothing changed)\n");
  return 0;
}
