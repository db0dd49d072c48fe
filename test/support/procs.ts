/** Helpers for tests with real processes: free ports, waiting, cleanups, and the OS process table. */
import { afterAll, afterEach } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";

/** What a test started and must stop: push a stop onto the list. */
export type Cleanup = Array<() => unknown>;

/** A cleanup list for the file's tests: after each test they run, last first. */
export function cleanupAfterEach(): Cleanup {
  const cleanup: Cleanup = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });
  return cleanup;
}

/**
 * The same for tests that run side by side (describe.concurrent), where an afterEach would stop
 * the neighbours' processes too: `scoped(async (cleanup) => …)` gives the test its own list,
 * run last first when the test's body ends, pass or fail. A body still running when the file
 * ends (its test timed out) has its list run then.
 */
export function cleanupPerTest(): <T>(run: (cleanup: Cleanup) => Promise<T>) => Promise<T> {
  const pending = new Set<Cleanup>();
  const runAll = async (list: Cleanup) => {
    for (const f of list.splice(0).reverse()) await f();
  };
  afterAll(async () => {
    for (const list of pending) await runAll(list);
  });
  return async (run) => {
    const list: Cleanup = [];
    pending.add(list);
    try {
      return await run(list);
    } finally {
      pending.delete(list);
      await runAll(list);
    }
  };
}

/**
 * A port nobody listens on right now, below Linux's ephemeral range (32768-60999 by default):
 * a port the kernel hands out for `bind 0` is also what it hands out as the source port of
 * outgoing connections, and with parallel test files opening thousands of them one was taken
 * between being picked here and a supervised service binding it (the service then never came
 * up). Checked by binding it; port 0's pick if 50 tries find nothing free.
 */
export function freePort(): number {
  for (let i = 0; i < 50; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    try {
      Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } }).stop(true);
      return port;
    } catch {
      // taken: another
    }
  }
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

export async function waitFor<T>(what: string, fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await Bun.sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
}

/** Live (non-zombie) processes whose command line contains `needle`, from the OS table. */
export function processesMatching(needle: string): Array<{ pid: number; cmd: string }> {
  const out: Array<{ pid: number; cmd: string }> = [];
  if (process.platform === "linux") {
    for (const d of readdirSync("/proc")) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0").join(" ").trim();
        const state = readFileSync(`/proc/${d}/stat`, "utf8").replace(/^.*\)\s*/, "")[0];
        if (cmd.includes(needle) && state !== "Z") out.push({ pid: Number(d), cmd });
      } catch {
        // exited while we looked
      }
    }
    return out;
  }
  const ps = Bun.spawnSync(["ps", "-axo", "pid=,stat=,args="]).stdout.toString();
  for (const line of ps.split("\n")) {
    const m = /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (m && m[3]!.includes(needle) && !m[2]!.startsWith("Z")) out.push({ pid: Number(m[1]), cmd: m[3]! });
  }
  return out;
}

/** Live members of a process group (from ps, so it works on macOS and Linux). */
export function groupMembers(pgid: number): number[] {
  const out = Bun.spawnSync(["ps", "-eo", "pid=,pgid=,stat="]).stdout.toString();
  return out
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((c) => Number(c[1]) === pgid && !c[2]?.startsWith("Z"))
    .map((c) => Number(c[0]));
}

/**
 * Live processes of a test's service tree: command line containing `tag`, or (Linux) the
 * environment variable FIXTURE_TAG=`tag`, which every descendant inherits — also one that
 * left the process group with `setsid` and was reparented to init.
 */
export function taggedProcesses(tag: string): number[] {
  const pids = new Set(processesMatching(tag).map((p) => p.pid));
  if (process.platform === "linux")
    for (const d of readdirSync("/proc")) {
      if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
      try {
        const state = readFileSync(`/proc/${d}/stat`, "utf8").replace(/^.*\)\s*/, "")[0];
        if (state !== "Z" && readFileSync(`/proc/${d}/environ`, "utf8").split("\0").includes(`FIXTURE_TAG=${tag}`)) pids.add(Number(d));
      } catch {
        // exited while we looked, or not ours to read
      }
    }
  return [...pids].sort((a, b) => a - b);
}
