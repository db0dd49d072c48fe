/**
 * Size-rotated log files. Children write straight into `$ATRAD_HOME/logs/<name>.log` through an
 * O_APPEND descriptor (not a pipe through atrad), so a child adopted after atrad was `kill -9`ed
 * keeps logging. Rotation is therefore copy-then-truncate: the child's next append lands at the
 * start of the emptied file. The few lines written between copy and truncate may be lost; that
 * is the usual copytruncate trade-off and acceptable for service logs.
 */
import { appendFileSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readSync, renameSync, statSync, truncateSync, fstatSync } from "node:fs";
import { dirname, join } from "node:path";

export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_KEEP = 3;

export function logsDir(home: string) {
  return join(home, "logs");
}

export function serviceLogPath(home: string, name: string) {
  return join(logsDir(home), `${name}.log`);
}

/** The daemon's own log (`atrad logs` with no name). */
export function daemonLogPath(home: string) {
  return join(logsDir(home), "atrad.log");
}

/** One JSON line per request (`atrad logs requests`), written by the daemon's request log. */
export function requestLogPath(home: string) {
  return join(logsDir(home), "requests.jsonl");
}

/** If `path` is over `maxBytes`, shift path.1 → path.2 …, copy path → path.1 and empty path. */
export function rotateIfLarge(path: string, maxBytes = DEFAULT_MAX_BYTES, keep = DEFAULT_KEEP): boolean {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return false;
  }
  if (size <= maxBytes) return false;
  for (let i = keep - 1; i >= 1; i--) if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
  copyFileSync(path, `${path}.1`);
  truncateSync(path, 0);
  return true;
}

/** Open for appending (creating the logs dir); the fd is handed to a child's stdout/stderr. */
export function openAppend(path: string): number {
  mkdirSync(dirname(path), { recursive: true });
  return openSync(path, "a", 0o600);
}

/** A writer for the daemon's own lines that rotates itself every so often. */
export function rotatingWriter(path: string, maxBytes = DEFAULT_MAX_BYTES, keep = DEFAULT_KEEP): (line: string) => void {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch {
    // An unwritable ATRAD_HOME: the daemon warns and logs to stderr only; writes below fail quietly.
  }
  let written = 0;
  return (line: string) => {
    try {
      appendFileSync(path, line, { mode: 0o600 });
      written += line.length;
      if (written > 64 * 1024) {
        written = 0;
        rotateIfLarge(path, maxBytes, keep);
      }
    } catch {
      // Logging must never take the daemon down (full disk, removed directory).
    }
  };
}

/** The last `n` lines of a file (reads at most the last 64 KiB). */
export function tailLines(path: string, n: number): string[] {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const lines = buf.toString("utf8").split("\n");
    if (lines.at(-1) === "") lines.pop();
    if (len < size) lines.shift(); // the first line is probably cut
    return lines.slice(-n);
  } finally {
    closeSync(fd);
  }
}
