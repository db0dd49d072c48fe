/** CPU time a process used, from /proc (Linux): user + system, in seconds. */
import { readFileSync } from "node:fs";

const TICKS_PER_S = 100; // USER_HZ; Linux has used 100 for every architecture Bun runs on

export function cpuSeconds(pid: number): number {
  // Fields after the command name (which may hold spaces) start after the last ")".
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S; // utime, stime
}

/** Share of one core a process used over `ms` of wall time. */
export async function idleCpuShare(pid: number, ms: number): Promise<number> {
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  await Bun.sleep(ms);
  return (cpuSeconds(pid) - c0) / ((performance.now() - t0) / 1000);
}
