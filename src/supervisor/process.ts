/**
 * Owned child processes: spawn each in its own session/process group (so TERM reaches the
 * whole tree a start script creates, and launchd killing atrad's group doesn't take them),
 * stop them TERM → grace → KILL, and remember them in a pidfile so an atrad restarted after a
 * `kill -9` finds and adopts them instead of starting duplicates.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { commandOf } from "./ports.ts";
import { openAppend } from "./logfile.ts";

export interface ChildSpec {
  name: string;
  command: string[];
  cwd?: string;
  env?: Record<string, string>;
  logPath: string;
}

export interface Child {
  pid: number;
  /** Resolves when the process is gone. Adopted children are polled (they are not ours to wait on). */
  exited: Promise<{ code: number | null; signal: string | null }>;
}

export function spawnChild(spec: ChildSpec): Child {
  const fd = openAppend(spec.logPath);
  try {
    const stamp = `--- ${new Date().toISOString()} atrad starting ${spec.command.join(" ")}\n`;
    writeFileSync(fd, stamp);
    const child = spawn(spec.command[0]!, spec.command.slice(1), {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ["ignore", fd, fd],
      detached: true, // setsid: the child leads its own process group
    });
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      child.once("exit", (code, signal) => resolve({ code, signal }));
      child.once("error", () => resolve({ code: null, signal: null }));
    });
    // A missing or non-executable program fails here without a pid; 'error' says why, later.
    if (!child.pid) throw new Error(`cannot run ${spec.command[0]}: not found or not executable`);
    child.unref();
    return { pid: child.pid, exited };
  } finally {
    closeSync(fd);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Follow a process we did not spawn (adopted) until it disappears. */
export function watchPid(pid: number, everyMs = 250): Child["exited"] {
  return new Promise((resolve) => {
    const t = setInterval(() => {
      if (!isAlive(pid) || isZombie(pid)) {
        clearInterval(t);
        resolve({ code: null, signal: null });
      }
    }, everyMs);
  });
}

function isZombie(pid: number): boolean {
  if (process.platform !== "linux") return false;
  try {
    return / Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\)/, ""));
  } catch {
    return false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal); // the group the child leads
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** TERM the child's process group, KILL it after `graceMs`; resolves once the leader is gone. */
export async function stopChild(child: Child, graceMs: number): Promise<void> {
  signalGroup(child.pid, "SIGTERM");
  const done = await Promise.race([child.exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
  // KILL the group even when the leader left politely: a grandchild may still hold the port.
  signalGroup(child.pid, "SIGKILL");
  if (!done) await Promise.race([child.exited, Bun.sleep(1000)]);
}

// ---- pidfile ------------------------------------------------------------------------------

export interface PidEntry {
  pid: number;
  command: string[];
  started_at: string;
}

export function pidfilePath(home: string) {
  return join(home, "run", "children.json");
}

export function readPidfile(path: string): Record<string, PidEntry> {
  try {
    const data = JSON.parse(readFileSync(path, "utf8"));
    return typeof data === "object" && data ? data : {};
  } catch {
    return {};
  }
}

export function writePidfile(path: string, entries: Record<string, PidEntry>) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(entries, null, 2) + "\n", { mode: 0o600 });
  renameSync(tmp, path); // atomic: a crash never leaves half a pidfile
}

/**
 * Is the pidfile's entry still our child? The pid must be alive and its command line must hold
 * the configured command — pids are reused, and atrad must never kill a stranger.
 */
export async function stillOurs(entry: PidEntry): Promise<boolean> {
  if (!isAlive(entry.pid) || isZombie(entry.pid)) return false;
  const line = await commandOf(entry.pid);
  return !!line && line.includes(entry.command.join(" "));
}
