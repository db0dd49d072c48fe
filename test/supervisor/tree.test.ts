/**
 * A service's process tree is owned as a whole: a forking leader (its server in a child of the
 * same group), a grandchild that `setsid`s out of the group, a child that ignores SIGTERM.
 * After each scenario the OS process table (/proc, ps) must hold none of the old tree.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Service } from "../../src/config/load.ts";
import { silentLogger } from "../../src/log.ts";
import { Supervisor, type SupervisorTiming } from "../../src/supervisor/supervisor.ts";
import { cleanupPerTest, freePort, type Cleanup, taggedProcesses, waitFor } from "../support/procs.ts";
import { ownedService, startSupervisor, statusOf } from "../support/services.ts";
import { procOf } from "../../src/supervisor/proctable.ts";

const FAST: SupervisorTiming = { intervalMs: 100, backoffBaseMs: 50, backoffMaxMs: 200, startTimeoutMs: 5000, graceMs: 300, failThreshold: 2 };
// Each test has its own supervisor, ports, tags and cleanup list: they run side by side.
const scoped = cleanupPerTest();


function start(cleanup: Cleanup, services: Service[], timing: SupervisorTiming = FAST) {
  return startSupervisor(cleanup, services, timing);
}

/** Which of these pids are still live processes (zombies awaiting a reaper hold nothing). */
const alive = (pids: number[]) => pids.filter((p) => procOf(p) && !procOf(p)!.zombie);

describe.concurrent("a service's process tree", () => {
  test("the leader of a forking service crashes: its server child and setsid grandchild go with it", () => scoped(async (cleanup) => {
    const tag = crypto.randomUUID();
    const { sup, ready } = start(cleanup, [ownedService("fork", freePort(), tag, { SERVE_IN_CHILD: "1", SETSID_GRANDCHILD: "1" })]);
    await ready;
    const leader = await waitFor("up", () => statusOf(sup, "fork").state === "up" && statusOf(sup, "fork").pid);
    // leader + server child + setsid'd sh + its sleep
    const tree = await waitFor("whole tree running", () => taggedProcesses(tag).length >= 4 && taggedProcesses(tag));
    process.kill(leader, "SIGKILL");
    await waitFor("restarted up", () => statusOf(sup, "fork").state === "up" && statusOf(sup, "fork").pid !== leader);
    await waitFor("old tree gone", () => alive(tree).length === 0, 5000);
    expect(alive(tree)).toEqual([]);
    expect(statusOf(sup, "fork").restarts).toBe(1);
    await sup.stop();
    expect(taggedProcesses(tag)).toEqual([]);
  }), 30_000);

  test("the leader of a TERM-ignoring forking service crashes: its server's answers while it is being stopped don't make the service up", () => scoped(async (cleanup) => {
    const tag = crypto.randomUUID();
    const { sup, ready } = start(cleanup, [ownedService("fork", freePort(), tag, { SERVE_IN_CHILD: "1", IGNORE_TERM: "1" })]);
    await ready;
    const leader = await waitFor("up", () => statusOf(sup, "fork").state === "up" && statusOf(sup, "fork").pid);
    await waitFor("its server running", () => taggedProcesses(tag).length >= 2);
    process.kill(leader, "SIGKILL");
    // The old server ignores TERM: it answers healthy for the whole grace (three probe rounds), until it is killed.
    const seen = new Set<string>();
    const s = await waitFor("restarted up", () => {
      const s = statusOf(sup, "fork");
      seen.add(`${s.state} ${s.pid === null ? "no process" : s.pid === leader ? "old leader" : "new leader"}`);
      return s.state === "up" && s.pid !== null && s.pid !== leader && s;
    }, 10_000, 10);
    expect([...seen].filter((x) => x === "up no process")).toEqual([]);
    expect(s.restarts).toBe(1);
  }), 30_000);

  test("stop(): a TERM-ignoring forking leader, its child and a setsid grandchild are all gone", () => scoped(async (cleanup) => {
    const tag = crypto.randomUUID();
    const { sup, ready } = start(cleanup, [ownedService("stubborn", freePort(), tag, { SERVE_IN_CHILD: "1", SETSID_GRANDCHILD: "1", IGNORE_TERM: "1" })]);
    await ready;
    await waitFor("up", () => statusOf(sup, "stubborn").state === "up");
    await waitFor("whole tree running", () => taggedProcesses(tag).length >= 4);
    await sup.stop();
    expect(taggedProcesses(tag)).toEqual([]);
    expect(statusOf(sup, "stubborn").state).toBe("stopped");
  }), 30_000);

  test("a health kill takes the whole tree, and the reason survives the exit", () => scoped(async (cleanup) => {
    const tag = crypto.randomUUID();
    const port = freePort();
    // It answers 503 from the start: killed once the start timeout is over, restarted once, given up.
    const { sup, ready } = start(cleanup, [ownedService("sick", port, tag, { SETSID_GRANDCHILD: "1", HEALTH_CODE: "503" }, { start_timeout_s: 0.3 })], { ...FAST, budget: 1 });
    await ready;
    const first = await waitFor("tree running", () => taggedProcesses(tag).length >= 3 && taggedProcesses(tag));
    await waitFor("failed", () => statusOf(sup, "sick").state === "failed", 10_000);
    expect(alive(first)).toEqual([]);
    expect(taggedProcesses(tag)).toEqual([]);
    // Not "exited with code …" alone: why atrad stopped it comes first.
    expect(statusOf(sup, "sick").last_error).toMatch(/^not healthy 300ms after start: HTTP 503.*\(pid \d+ stopped; killed by SIGTERM\)/);
  }), 30_000);
});

describe.concurrent("adoption by pid + start time", () => {
  test("a pidfile entry whose pid now belongs to another process is reported, and that process is left alone", () => scoped(async (cleanup) => {
    const stranger = Bun.spawn(["sleep", "30"], { stdio: ["ignore", "ignore", "ignore"] });
    cleanup.push(() => stranger.kill("SIGKILL"));
    const home = mkdtempSync(join(tmpdir(), "atrad-adopt-"));
    const port = freePort();
    const svc0 = ownedService("mlx", port, crypto.randomUUID());
    mkdirSync(join(home, "run"), { recursive: true });
    // As a previous atrad would have written it, but the start time is not this process's.
    const entry = { pid: stranger.pid, pgid: stranger.pid, start: "1", marker: "ATRAD_SERVICE_ID=mlx.gone", command: svc0.command, started_at: new Date().toISOString() };
    writeFileSync(join(home, "run", "children.json"), JSON.stringify({ mlx: entry }));
    const sup = new Supervisor([svc0], [], { home, logger: silentLogger, timing: FAST });
    cleanup.push(() => sup.stop());
    await sup.start();
    const s = statusOf(sup, "mlx");
    expect(s.note).toContain(`pid ${stranger.pid} left by a previous atrad was not adopted`);
    expect(s.note).toContain("different start time");
    expect(s.pid).not.toBe(stranger.pid);
    await Bun.sleep(300);
    expect(alive([stranger.pid])).toEqual([stranger.pid]);
  }), 30_000);
});
