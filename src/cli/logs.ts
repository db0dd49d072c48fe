/**
 * `atrad logs [-f] [-n N] [NAME]`: the daemon's log (`$ATRAD_HOME/logs/atrad.log`, which
 * `atrad serve` writes besides stderr), or a supervised service's `<NAME>.log`. `-f` follows
 * across rotation: a file that shrank was truncated, so reading restarts at its beginning.
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { atradHome } from "../config/load.ts";
import { daemonLogPath, logsDir, serviceLogPath, tailLines } from "../supervisor/logfile.ts";
import type { CliIO } from "./io.ts";

export async function logsCommand(argv: string[], io: CliIO, opts: { signal?: AbortSignal; pollMs?: number } = {}): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { follow: { type: "boolean", short: "f", default: false }, lines: { type: "string", short: "n", default: "100" } },
    allowPositionals: true,
    strict: true,
  });
  const home = atradHome(io.env);
  const name = positionals[0];
  if (name && !/^[A-Za-z0-9_.-]+$/.test(name)) {
    io.err(`atrad logs: "${name}" is not a service name\n`);
    return 2;
  }
  const path = name && name !== "atrad" ? serviceLogPath(home, name) : daemonLogPath(home);
  const n = Number(values.lines);
  if (!Number.isInteger(n) || n < 0) {
    io.err(`atrad logs: -n "${values.lines}" is not a line count\n`);
    return 2;
  }
  if (!existsSync(path) && !values.follow) {
    const have = available(home);
    io.err(`atrad logs: no log at ${path}${have.length ? ` (logs: ${have.join(", ")})` : ""}\n`);
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

function available(home: string): string[] {
  try {
    return readdirSync(logsDir(home))
      .filter((f) => f.endsWith(".log"))
      .map((f) => f.slice(0, -4));
  } catch {
    return [];
  }
}
