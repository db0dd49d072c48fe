/**
 * No state is a dead end, and what happens is visible: a `failed` service comes back once its
 * port is free, a stranger taking the port during a backoff is a conflict (not blind respawns),
 * requests act on one service, and an external restart command's failure or hang shows in
 * status within seconds while the router treats the service as down.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Provider, Service } from "../../src/config/load.ts";
import type { SupervisorTiming } from "../../src/supervisor/supervisor.ts";
import { cleanupPerTest, freePort, type Cleanup, taggedProcesses, waitFor } from "../support/procs.ts";
import { ownedService, startSupervisor, statusOf, upOnceThePortIsFree } from "../support/services.ts";
import { procOf } from "../../src/supervisor/proctable.ts";

const FAST: SupervisorTiming = { intervalMs: 100, backoffBaseMs: 50, backoffMaxMs: 100, startTimeoutMs: 3000, graceMs: 500, failThreshold: 2, budget: 2, cooloffMs: 300 };
// Each test has its own supervisor, ports, tags and cleanup list: they run side by side.
const scoped = cleanupPerTest();

function start(cleanup: Cleanup, services: Service[], timing: SupervisorTiming = FAST, providers: Provider[] = []) {
  return startSupervisor(cleanup, services, timing, providers);
}

describe.concurrent("no dead ends", () => {
  test("failed, then a stranger on the port is not spawned over; once the port is free it comes back up", () => scoped(async (cleanup) => {
    const tag = crypto.randomUUID();
    const port = freePort();
    const crashFile = join(mkdtempSync(join(tmpdir(), "atrad-crash-")), "crash");
    writeFileSync(crashFile, "");
    const { sup, ready } = start(cleanup, [ownedService("flaky", port, tag, { CRASH_IF_EXISTS: crashFile })]);
    await ready;
    await waitFor("failed", () => statusOf(sup, "flaky").state === "failed");
    expect(statusOf(sup, "flaky").last_error).toMatch(/gave up after 2 restarts.*cool-off/);
    // The stranger (this test process: listening at once, well inside the cool-off) first, then
    // the crash's cause gone: whenever the cool-off ends, only the stranger keeps it down.
    const server = Bun.serve({ hostname: "127.0.0.1", port, fetch: () => new Response("not flaky", { status: 404 }) });
    cleanup.push(() => server.stop(true));
    const other = { kill: () => void server.stop(true) };
    rmSync(crashFile);
    // Past the end of the cool-off (counted from when it failed) by two probe rounds, while the stranger holds the port.
    const failedAt = Date.parse(statusOf(sup, "flaky").since);
    await Bun.sleep(Math.max(0, failedAt + FAST.cooloffMs! - Date.now()) + 2 * FAST.intervalMs!);
    expect(statusOf(sup, "flaky").state).toBe("failed");
    await upOnceThePortIsFree(sup, "flaky", tag, other);
  }), 30_000);

  test("a stranger taking the port during the backoff: conflict naming its pid and command, no respawn into EADDRINUSE", () => scoped(async (cleanup) => {
    const tag = crypto.randomUUID();
    const port = freePort();
    // Probes 10 s apart: in this test only the check before the spawn can see the stranger.
    const { sup, ready } = start(cleanup, [ownedService("mlx", port, tag)], { ...FAST, intervalMs: 10_000, backoffBaseMs: 500, backoffMaxMs: 500 });
    await ready;
    const pid = await waitFor("spawned", () => statusOf(sup, "mlx").pid);
    process.kill(pid, "SIGKILL");
    await waitFor("backoff", () => statusOf(sup, "mlx").state === "backoff");
    // The stranger is this test process itself: listening at once, well inside the backoff.
    const other = Bun.serve({ hostname: "127.0.0.1", port, fetch: () => new Response("not mlx", { status: 404 }) });
    cleanup.push(() => other.stop(true));
    const s = await waitFor("conflict", () => statusOf(sup, "mlx").state === "conflict" && statusOf(sup, "mlx"), 10_000);
    expect(s.holder?.pid).toBe(process.pid);
    expect(s.last_error).toContain(`pid ${process.pid}`);
    expect(s.last_error).toContain(`is already held by pid ${process.pid} (${s.holder!.command})`);
    expect(s.restarts).toBe(1);
    expect(taggedProcesses(tag)).toEqual([]);
  }), 30_000);

  test("an owned service without `expect`: a stranger answering 200 on its port is a conflict, not up", () => scoped(async (cleanup) => {
    const port = freePort();
    const other = Bun.serve({ hostname: "127.0.0.1", port, fetch: () => new Response("hello") });
    cleanup.push(() => other.stop(true));
    const tag = crypto.randomUUID();
    const { sup, ready } = start(cleanup, [{ ...ownedService("mlx", port, tag), expect: undefined }]);
    await ready;
    const s = await waitFor("conflict", () => statusOf(sup, "mlx").state === "conflict" && statusOf(sup, "mlx"));
    expect(s.holder?.pid).toBe(process.pid);
    expect(s.last_error).toContain("atrad did not start");
    expect(taggedProcesses(tag)).toEqual([]);
  }), 30_000);

  test("requests: stop holds it stopped, start brings it back, restart replaces the process", () => scoped(async (cleanup) => {
    const tag = crypto.randomUUID();
    const { sup, ready } = start(cleanup, [ownedService("one", freePort(), tag)]);
    await ready;
    const first = await waitFor("up", () => statusOf(sup, "one").state === "up" && statusOf(sup, "one").pid);
    expect(sup.request("one", "stop").ok).toBe(true);
    await waitFor("stopped and gone", () => statusOf(sup, "one").state === "stopped" && taggedProcesses(tag).length === 0);
    await Bun.sleep(400); // probes go on; nothing restarts a service stopped on request
    expect(statusOf(sup, "one").state).toBe("stopped");
    expect(taggedProcesses(tag)).toEqual([]);
    sup.request("one", "start");
    const second = await waitFor("up again", () => statusOf(sup, "one").state === "up" && statusOf(sup, "one").pid);
    expect(second).not.toBe(first);
    sup.request("one", "restart");
    const third = await waitFor("restarted", () => statusOf(sup, "one").state === "up" && statusOf(sup, "one").pid !== second && statusOf(sup, "one").pid);
    expect(taggedProcesses(tag)).toEqual([third]);
    const missing = sup.request("nope", "restart");
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.error).toContain('no service named "nope"');
  }), 30_000);

  test("restart NAME brings a failed service back without waiting for the cool-off", () => scoped(async (cleanup) => {
    const tag = crypto.randomUUID();
    const crashFile = join(mkdtempSync(join(tmpdir(), "atrad-crash-")), "crash");
    writeFileSync(crashFile, "");
    const { sup, ready } = start(cleanup, [ownedService("flaky", freePort(), tag, { CRASH_IF_EXISTS: crashFile })], { ...FAST, cooloffMs: 600_000 });
    await ready;
    await waitFor("failed", () => statusOf(sup, "flaky").state === "failed");
    rmSync(crashFile);
    sup.request("flaky", "restart");
    await waitFor("up", () => statusOf(sup, "flaky").state === "up");
  }), 30_000);
});

describe.concurrent("external restart commands are visible", () => {
  const provider = (name: string, url: string): Provider =>
    ({ name, kind: "openai", urls: [url], tools: "none", max_concurrency: 0, max_fails: 3, cooldown_s: 0, queue_timeout_s: 0, timeout_s: 0 }) as unknown as Provider;

  test("a failing restart command shows in status within seconds, with its exit status and output; the router skips the provider", () => scoped(async (cleanup) => {
    const port = freePort();
    const ext: Service = {
      name: "ollama",
      port,
      health: `http://127.0.0.1:${port}/health`,
      restart: ["sh", "-c", "echo 'Error: Formula ollama is not installed' >&2; exit 3"],
      provider: "ollama",
      interval_s: 0.1,
      timeout_s: 0.5,
    };
    const { sup, ready } = start(cleanup, [ext], { ...FAST, budget: 5 }, [provider("ollama", `http://127.0.0.1:${port}`)]);
    await ready;
    const s = await waitFor("restart command failed", () => statusOf(sup, "ollama").restart_command?.state === "failed" && statusOf(sup, "ollama"), 5000);
    expect(s.restart_command!.exit_code).toBe(3);
    expect(s.restart_command!.output_tail.join("\n")).toContain("Formula ollama is not installed");
    await waitFor("reason names the failure", () => /restart command exited 3: Error: Formula ollama is not installed/.test(statusOf(sup, "ollama").last_error ?? ""), 5000);
    expect(sup.downReason("ollama")).toMatch(/service ollama is/);
  }), 30_000);

  test("a hanging restart command is killed after the start timeout, and attempts never overlap", () => scoped(async (cleanup) => {
    const port = freePort();
    const tag = crypto.randomUUID();
    const ext: Service = { name: "victoria", port, health: `http://127.0.0.1:${port}/health`, restart: ["sh", "-c", `sleep 30; : ${tag}`], provider: "victoria", interval_s: 0.05, timeout_s: 0.3 };
    const { sup, ready } = start(cleanup, [ext], { ...FAST, startTimeoutMs: 400, budget: 3 }, [provider("victoria", `http://127.0.0.1:${port}`)]);
    await ready;
    // While the command runs, the service is starting, and the router already skips it.
    await waitFor("command running", () => statusOf(sup, "victoria").restart_command?.state === "running");
    expect(statusOf(sup, "victoria").state).toBe("starting");
    expect(sup.downReason("victoria")).toMatch(/service victoria is starting/);
    let most = 0;
    await waitFor("hang reported", () => {
      // Each attempt runs in a process group of its own (sh may fork before it execs sleep).
      most = Math.max(most, new Set(taggedProcesses(tag).flatMap((p) => procOf(p)?.pgid ?? [])).size);
      return /hung for 0.4 s and was killed/.test(statusOf(sup, "victoria").last_error ?? "");
    }, 8000, 20);
    expect(most).toBe(1);
    expect(statusOf(sup, "victoria").restart_command?.state).toBe("failed");
  }), 30_000);
});
