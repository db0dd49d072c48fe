/**
 * The OS process table, as far as the supervisor needs it: who a pid is (parent, group, session,
 * start time), and which processes belong to one owned service's tree.
 *
 * A pid alone is not an identity — pids are reused — and a command line is not either (a
 * wrapper that `exec`s becomes another program under the same pid). pid + start time is: the
 * kernel never gives two live processes both. Linux reads /proc; elsewhere `ps`.
 */
import { readdirSync, readFileSync } from "node:fs";

export interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  /** An opaque start-time stamp: equal for the same process, different for a reused pid. */
  start: string;
  zombie: boolean;
}

const LINUX = process.platform === "linux";

/** One process, or undefined when it is gone. */
export function procOf(pid: number): Proc | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (LINUX) return linuxProc(String(pid));
  return psTable(["-p", String(pid)])[0];
}

/** Every process we can see. */
export function allProcs(): Proc[] {
  if (!LINUX) return psTable(["-ax"]);
  const out: Proc[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const p = linuxProc(d);
    if (p) out.push(p);
  }
  return out;
}

function linuxProc(pid: string): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command: state ppid pgrp session … starttime is the 20th.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { pid: Number(pid), ppid: Number(f[1]), pgid: Number(f[2]), start: f[19] ?? "", zombie: f[0] === "Z" };
  } catch {
    return undefined;
  }
}

function psTable(select: string[]): Proc[] {
  try {
    const r = Bun.spawnSync(["ps", ...select, "-o", "pid=,ppid=,pgid=,stat=,lstart="], { stdout: "pipe", stderr: "ignore" });
    const out: Proc[] = [];
    for (const line of r.stdout.toString().split("\n")) {
      const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(.+?)\s*$/.exec(line);
      if (m) out.push({ pid: Number(m[1]), ppid: Number(m[2]), pgid: Number(m[3]), start: m[5]!, zombie: m[4]!.startsWith("Z") });
    }
    return out;
  } catch {
    return [];
  }
}

/** Is this exact process (pid and start time) still running? */
export function sameProcess(pid: number, start: string): boolean {
  const p = procOf(pid);
  return !!p && !p.zombie && p.start === start;
}

/** Does the process carry `marker` (KEY=VALUE) in its environment? Linux only; false elsewhere. */
export function hasEnvMarker(pid: number, marker: string): boolean {
  if (!LINUX) return false;
  try {
    return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(marker);
  } catch {
    return false;
  }
}

/**
 * The live processes of one service's tree: the leader's process group, every descendant of
 * the leader (also those that left the group with `setsid`), and — on Linux — every process
 * carrying the service's environment marker, which survives reparenting to init after the
 * leader died. `known` adds descendants seen earlier (how macOS keeps track of escapees).
 */
export function treeMembers(leader: { pid: number; pgid: number }, marker: string | undefined, known: Iterable<Proc> = []): Proc[] {
  const table = allProcs().filter((p) => !p.zombie && p.pid !== process.pid);
  const byPid = new Map(table.map((p) => [p.pid, p]));
  const members = new Map<number, Proc>();
  for (const p of table) if (p.pgid === leader.pgid || p.pid === leader.pid || (marker && hasEnvMarker(p.pid, marker))) members.set(p.pid, p);
  // Descendants by parent links, to any depth.
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of table) if (!members.has(p.pid) && (members.has(p.ppid) || p.ppid === leader.pid)) (members.set(p.pid, p), (grew = true));
  }
  for (const k of known) {
    const now = byPid.get(k.pid);
    if (now && now.start === k.start) members.set(k.pid, now);
  }
  return [...members.values()];
}
