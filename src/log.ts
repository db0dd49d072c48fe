/**
 * The daemon's log: one line per event on stderr (launchd/systemd collect it). Messages carry
 * routing facts only; prompt text and credentials never reach this function by design.
 */
import { maskUrl } from "./mask.ts";
export const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type Level = keyof typeof LEVELS;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: string = "info", write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const min = LEVELS[(level as Level) in LEVELS ? (level as Level) : "info"];
  const emit = (lvl: Level) => (msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[lvl] < min) return;
    const extra = fields ? " " + Object.entries(fields).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ") : "";
    // An upstream error quoting a provider URL must not put its password in the log.
    write(maskUrl(`${new Date().toISOString()} ${lvl.padEnd(5)} ${msg}${extra}\n`));
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Collect lines and hand them to `write` together, at most `flushMs` later: one write (and one
 * appendFileSync) per batch instead of per line. At thousands of requests/s the per-request
 * line written straight to stderr and the log file cost about a tenth of the daemon's CPU.
 */
export function batchedWriter(write: (text: string) => void, flushMs = 50): { write: (line: string) => void; flush: () => void } {
  let lines: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (!lines.length) return;
    const text = lines.join("");
    lines = [];
    write(text);
  };
  return {
    write(line: string) {
      lines.push(line);
      if (!timer) {
        timer = setTimeout(flush, flushMs);
        timer.unref?.();
      }
    },
    flush,
  };
}
