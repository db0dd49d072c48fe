/**
 * `$ATRAD_HOME/run/atrad.json`: where the running daemon listens. `atrad serve --port 0` (and a
 * port set only in a config `atrad status` didn't read) would otherwise leave the CLI guessing;
 * the file is removed on a clean stop and ignored when its pid is gone.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface DaemonState {
  pid: number;
  url: string;
  version: string;
  started_at: string;
}

/**
 * Why the daemon cannot write under `home` (a path under a file, a read-only or full disk), or
 * undefined. The daemon then serves anyway, logging to stderr only: losing its files must not
 * take the gateway down. A real write, since for root a directory's mode proves nothing.
 */
export function homeProblem(home: string): string | undefined {
  try {
    const probe = join(home, "run", `.writable-${process.pid}`);
    mkdirSync(dirname(probe), { recursive: true });
    writeFileSync(probe, "");
    rmSync(probe, { force: true });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export function daemonStatePath(home: string) {
  return join(home, "run", "atrad.json");
}

export function writeDaemonState(home: string, state: DaemonState) {
  const path = daemonStatePath(home);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(`${path}.tmp`, JSON.stringify(state) + "\n", { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  } catch {
    // Status then falls back to the configured port; not worth failing the daemon over.
  }
}

/** The state of a live daemon, or undefined (no file, unreadable, or its pid is gone). */
export function readDaemonState(home: string): DaemonState | undefined {
  try {
    const s = JSON.parse(readFileSync(daemonStatePath(home), "utf8")) as DaemonState;
    process.kill(s.pid, 0);
    return s;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EPERM") return undefined;
    return undefined;
  }
}

/** Remove the file if it is still ours (a newer daemon may have replaced it). */
export function removeDaemonState(home: string, pid: number) {
  try {
    const s = JSON.parse(readFileSync(daemonStatePath(home), "utf8")) as DaemonState;
    if (s.pid === pid) rmSync(daemonStatePath(home), { force: true });
  } catch {
    // nothing to remove
  }
}
