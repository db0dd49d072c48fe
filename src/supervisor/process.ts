/**
 * Owned child processes: spawn each in its own session/process group, stop its whole tree
 * (TERM → grace → KILL), and remember it in a pidfile so an atrad restarted after a `kill -9`
 * finds and adopts it instead of starting a duplicate.
 *
 * The tree is the unit, not the leader: a start script whose server runs in a forked child, or
 * a grandchild that `setsid`s away, must not outlive the service. Every child carries an
 * environment marker its descendants inherit, so they are found even after reparenting.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { openAppend } from "./logfile.ts";
import { procOf, sameProcess, treeMembers, type Proc } from "./proctable.ts";

export interface ChildSpec {
  name: string;
  command: string[];
  cwd?: string;
  env?: Record<string, string>;
  logPath: string;
}

/** The environment variable that marks every process of an owned service's tree. */
export const MARKER_VAR = "ATRAD_SERVICE_ID";

export interface Child {
  pid: number;
  pgid: number;
  /** Start time of the leader (see proctable.ts): with the pid, its identity. */
  start: string;
  /** `ATRAD_SERVICE_ID=…` as it appears in the tree's environments. */
  marker: string;
  /** Descendants seen so far (for platforms where the marker can't be read). */
  known: Map<number, Proc>;
  /** Resolves when the leader is gone. Adopted children are polled (they are not ours to wait on). */
  exited: Promise<{ code: number | null; signal: string | null }>;
}

export function spawnChild(spec: ChildSpec): Child {
  // A log file that cannot be opened (an unwritable ATRAD_HOME) must not stop the service:
  // its output then goes where the daemon's own log goes, atrad's stderr.
  let fd = 2;
  try {
    fd = openAppend(spec.logPath);
  } catch {}
  const id = `${spec.name}.${crypto.randomUUID()}`;
  try {
    const stamp = `--- ${new Date().toISOString()} atrad starting ${spec.command.join(" ")}\n`;
    writeFileSync(fd, stamp);
    const child = spawn(spec.command[0]!, spec.command.slice(1), {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env, [MARKER_VAR]: id },
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
    const p = procOf(child.pid);
    return { pid: child.pid, pgid: child.pid, start: p?.start ?? "", marker: `${MARKER_VAR}=${id}`, known: new Map(), exited };
  } finally {
    if (fd !== 2) closeSync(fd);
  }
}

/** A child of an earlier atrad, recognised from its pidfile entry. */
export function adoptedChild(e: PidEntry): Child {
  return { pid: e.pid, pgid: e.pgid, start: e.start, marker: e.marker, known: new Map(), exited: watchPid(e.pid, e.start) };
}

/** Follow a process we did not spawn (adopted) until it disappears. */
export function watchPid(pid: number, start: string, everyMs = 250): Child["exited"] {
  return new Promise((resolve) => {
    const t = setInterval(() => {
      if (!sameProcess(pid, start)) {
        clearInterval(t);
        resolve({ code: null, signal: null });
      }
    }, everyMs);
  });
}

/** Remember the tree's current members: on macOS that is how a `setsid` escapee stays known. */
export function noteDescendants(child: Child) {
  for (const p of treeMembers(child, child.marker, child.known.values())) child.known.set(p.pid, p);
}

function members(child: Child): Proc[] {
  const own = procOf(process.pid)?.pgid;
  // A group that is atrad's own (never for a child we spawned detached) must not be signalled.
  // Once the leader is gone its pid may be reused: descend from it only while it is the same
  // process. (Its group id is safe: the kernel does not reuse a pid still naming a group.)
  const leader = { pid: child.start && sameProcess(child.pid, child.start) ? child.pid : -1, pgid: child.pgid === own ? -1 : child.pgid };
  return treeMembers(leader, child.marker, child.known.values());
}

function signalAll(child: Child, procs: Proc[], signal: NodeJS.Signals) {
  const own = procOf(process.pid)?.pgid;
  const groups = new Set([child.pgid, ...procs.map((p) => p.pgid)].filter((g) => g > 1 && g !== own));
  for (const g of groups) {
    try {
      process.kill(-g, signal);
    } catch {
      // group already empty
    }
  }
  for (const p of procs) {
    try {
      process.kill(p.pid, signal);
    } catch {
      // already gone
    }
  }
}

/**
 * Stop the whole tree: TERM every member (its groups and each process), KILL whatever is left
 * after `graceMs`. Resolves once no member is left (or, at worst, a second after the KILL).
 */
export async function stopTree(child: Child, graceMs: number): Promise<void> {
  const first = members(child);
  if (!first.length) return;
  signalAll(child, first, "SIGTERM");
  const deadline = Date.now() + graceMs;
  let left = first;
  while (left.length && Date.now() < deadline) {
    await Bun.sleep(Math.min(100, Math.max(10, deadline - Date.now())));
    left = members(child);
  }
  if (!left.length) return;
  signalAll(child, left, "SIGKILL");
  const end = Date.now() + 1000;
  while (members(child).length && Date.now() < end) await Bun.sleep(25);
}

/** Last resort at a forced exit: KILL every member now, without waiting. */
export function killTreeNow(child: Child) {
  signalAll(child, members(child), "SIGKILL");
}

// ---- pidfile ------------------------------------------------------------------------------

export interface PidEntry {
  pid: number;
  pgid: number;
  start: string;
  marker: string;
  command: string[];
  started_at: string;
}

export function pidfilePath(home: string) {
  return join(home, "run", "children.json");
}

export function readPidfile(path: string): Record<string, Partial<PidEntry>> {
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

/** What became of a pidfile entry: still the same process, gone, or a reused pid (a stranger). */
export type Recognition = { verdict: "ours"; entry: PidEntry } | { verdict: "gone" } | { verdict: "unconfirmed"; why: string };

export function recognise(e: Partial<PidEntry>): Recognition {
  if (typeof e.pid !== "number" || typeof e.start !== "string" || typeof e.pgid !== "number" || typeof e.marker !== "string" || !Array.isArray(e.command))
    return { verdict: "unconfirmed", why: "the entry lacks pid, start time or group (written by an older atrad)" };
  const p = procOf(e.pid);
  if (!p || p.zombie) return { verdict: "gone" };
  if (p.start !== e.start) return { verdict: "unconfirmed", why: `pid ${e.pid} now belongs to another process (different start time)` };
  return { verdict: "ours", entry: e as PidEntry };
}
