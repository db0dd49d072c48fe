/**
 * `atrad logs [-f] [-n N] [NAME]`: the daemon's log (`$ATRAD_HOME/logs/atrad.log`, which
 * `atrad serve` writes), the request log (`requests.jsonl`), or a supervised service's
 * `<NAME>.log`; `--list` says which there are. `-f` follows across rotation: a file that shrank
 * was truncated, so reading restarts at its beginning.
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { atradHome, loadConfig } from "../config/load.ts";
import { daemonLogPath, logsDir, requestLogPath, serviceLogPath, tailLines } from "../supervisor/logfile.ts";
import { UsageError, type Input } from "./command.ts";
import type { logsOptions } from "./commands.ts";
import type { CliIO } from "./io.ts";

export interface LogEntry {
  name: string;
  path: string;
  what: string;
  /** A service atrad only watches (no `command`): nothing of its output passes through atrad. */
  watched?: boolean;
}

/** Every log `atrad logs NAME` can show: the daemon's, the requests, each service atrad starts. */
export function knownLogs(home: string, env: Record<string, string | undefined>): LogEntry[] {
  const out: LogEntry[] = [
    { name: "atrad", path: daemonLogPath(home), what: "the daemon's log" },
    { name: "requests", path: requestLogPath(home), what: "one JSON line per request (no prompt text)" },
  ];
  const seen = new Set(out.map((l) => l.name));
  let services: Array<{ name: string; command?: unknown }> = [];
  try {
    services = loadConfig({ env }).services;
  } catch {
    // A broken config still leaves the files on disk to list.
  }
  for (const s of services)
    if (!seen.has(s.name)) {
      seen.add(s.name);
      const path = serviceLogPath(home, s.name);
      if (s.command) out.push({ name: s.name, path, what: `output of service ${s.name}, which atrad starts` });
      else out.push({ name: s.name, path, what: `service ${s.name} is only watched (it has no command), so atrad keeps no log of it`, watched: true });
    }
  let files: string[] = [];
  try {
    files = readdirSync(logsDir(home));
  } catch {}
  for (const f of files)
    if (f.endsWith(".log") && !seen.has(f.slice(0, -4))) {
      seen.add(f.slice(0, -4));
      out.push({ name: f.slice(0, -4), path: serviceLogPath(home, f.slice(0, -4)), what: "a service's log (no longer in the config)" });
    }
  return out;
}

function listing(logs: LogEntry[]): string {
  const size = (p: string) => {
    const s = statSync(p, { throwIfNoEntry: false });
    return s ? `${(s.size / 1024).toFixed(0)} KB` : "nothing written yet";
  };
  const w = Math.max(...logs.map((l) => l.name.length));
  return logs.map((l) => (l.watched && !existsSync(l.path) ? `  ${l.name.padEnd(w)}  (none): ${l.what}\n` : `  ${l.name.padEnd(w)}  ${l.path}  (${size(l.path)}): ${l.what}\n`)).join("");
}

export async function logsCommand({ values, args }: Input<typeof logsOptions>, io: CliIO, opts: { signal?: AbortSignal; pollMs?: number } = {}): Promise<number> {
  const home = atradHome(io.env);
  const n = Number(values.lines);
  if (!/^\d+$/.test(values.lines) || !Number.isInteger(n)) throw new UsageError(`-n "${values.lines}" is not a line count`);
  const name = args[0] ?? "atrad";
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new UsageError(`"${name}" is not a log name (atrad logs --list shows them)`);
  const logs = knownLogs(home, io.env);
  if (values.list) {
    io.out(listing(logs));
    return 0;
  }
  const entry = logs.find((l) => l.name === name);
  if (!entry) {
    io.err(`atrad logs: there is no log named "${name}". These are:\n${listing(logs)}`);
    return 1;
  }
  const path = entry.path;
  if (!existsSync(path) && entry.watched) {
    io.err(`atrad logs: ${entry.what}; its own log is wherever it writes one\n`);
    return 1;
  }
  if (!existsSync(path) && !values.follow) {
    io.err(`atrad logs: ${name} has not logged yet; its log (${entry.what}) will be ${path}\n  (atrad logs -f ${name} waits for it)\n`);
    return 1;
  }
  const lines = tailLines(path, n);
  if (lines.length) io.out(lines.join("\n") + "\n");
  if (!values.follow) return 0;

  let offset = existsSync(path) ? statSync(path).size : 0;
  const pollMs = opts.pollMs ?? 250;
  while (!opts.signal?.aborted) {
    await new Promise<void>((r) => {
      const t = setTimeout(r, pollMs);
      opts.signal?.addEventListener("abort", () => (clearTimeout(t), r()), { once: true });
    });
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      continue; // not created yet, or mid-rotation
    }
    if (size < offset) offset = 0; // rotated (copy-truncate): start over
    if (size > offset) {
      io.out(readRange(path, offset, size));
      offset = size;
    }
  }
  return 0;
}

function readRange(path: string, from: number, to: number): string {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(to - from);
    readSync(fd, buf, 0, buf.length, from);
    return buf.toString("utf8");
  } finally {
    closeSync(fd);
  }
}
