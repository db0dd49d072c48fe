/**
 * The supervisor with real child processes: small servers (test/fixtures/services) it starts,
 * kills, restarts and gives up on. Timings are shrunk through SupervisorTiming; assertions are
 * about states and pids, never about how long anything took.
 */
import { describe, expect, test } from "bun:test";
import type { Provider, Service } from "../../src/config/load.ts";
import type { SupervisorTiming } from "../../src/supervisor/supervisor.ts";
import { cleanupPerTest, freePort, type Cleanup, groupMembers, processesMatching, waitFor } from "../support/procs.ts";
import { FOREIGN, ownedService as fixtureService, startSupervisor, statusOf, upOnceThePortIsFree } from "../support/services.ts";

const FAST: SupervisorTiming = { intervalMs: 100, backoffBaseMs: 50, backoffMaxMs: 200, startTimeoutMs: 5000, graceMs: 300, failThreshold: 2 };

// Each test has its own supervisor, ports, tags and cleanup list: they run side by side.
const scoped = cleanupPerTest();

/** The fixture service, whose health here also counts "warning" and "degraded" as up. */
function ownedService(name: string, port: number, tag: string, env: Record<string, string> = {}, extra: Partial<Service> = {}): Service {
  return fixtureService(name, port, tag, env, { expect: { status: ["healthy", "warning", "degraded"] }, ...extra });
}

function start(cleanup: Cleanup, services: Service[], timing: SupervisorTiming = FAST, providers: Provider[] = []) {
  return startSupervisor(cleanup, services, timing, providers);
}


describe.concurrent("supervisor with real children", () => {
  test("SIGKILL of an owned child: restarted with a new pid and the restart counted", () => scoped(async (cleanup) => {
    const tag = crypto.randomUUID();
    const { sup, ready } = start(cleanup, [ownedService("mlx", freePort(), tag)]);
    await ready;
    const first = await waitFor("first up", () => statusOf(sup, "mlx").state === "up" && statusOf(sup, "mlx").pid);
    process.kill(first, "SIGKILL");
    const second = await waitFor("restarted up", () => {
      const s = statusOf(sup, "mlx");
      return s.state === "up" && s.pid !== first && s.pid;
    });
    expect(second).not.toBe(first);
    expect(statusOf(sup, "mlx").restarts).toBe(1);
    expect(processesMatching(tag).map((p) => p.pid)).toEqual([second]);
  }), 30_000);

  test("crash loop: backoff, then failed within the budget, with the log's last lines", () => scoped(async (cleanup) => {
    const tag = crypto.randomUUID();
    const { sup, ready } = start(cleanup, [ownedService("crashy", freePort(), tag, { CRASH_AFTER_MS: "50" })], { ...FAST, budget: 3, backoffMaxMs: 100 });
    await ready;
    const seen = new Set<string>();
    await waitFor("failed", () => {
      seen.add(statusOf(sup, "crashy").state);
      return statusOf(sup, "crashy").state === "failed";
    }, 20_000, 10);
    const s = statusOf(sup, "crashy");
    expect(seen.has("backoff")).toBe(true);
    expect(s.restarts).toBe(3);
    expect(s.last_error).toMatch(/gave up after 3 restarts/);
    expect(s.log_tail?.join("\n")).toMatch(/crashing on purpose/);
    expect(s.pid).toBeNull();
    expect(processesMatching(tag)).toEqual([]);
  }), 30_000);

  test("200 with an unhealthy body is never up", () => scoped(async (cleanup) => {
    const port = freePort();
    const server = Bun.serve({ hostname: "127.0.0.1", port, fetch: () => Response.json({ status: "unhealthy", error: "database down" }) });
    cleanup.push(() => server.stop(true));
    const watched: Service = { name: "knowledge_os", port, health: `http://127.0.0.1:${port}/health`, expect: { status: ["healthy"] }, interval_s: 0.1, timeout_s: 1 };
    const { sup, ready } = start(cleanup, [watched]);
    await ready;
    const s = await waitFor("probed", () => statusOf(sup, "knowledge_os").state !== "starting" && statusOf(sup, "knowledge_os"));
    expect(s.state).toBe("down");
    expect(s.last_error).toMatch(/"unhealthy".*database down/);
  }), 30_000);

  test("an owned child answering 200-but-critical stays out of up and is not called a conflict", () => scoped(async (cleanup) => {
    const tag = crypto.randomUUID();
    const port = freePort();
    const { sup, ready } = start(cleanup, [ownedService("mlx", port, tag, { HEALTH_BODY: JSON.stringify({ status: "critical" }) })]);
    await ready;
    await waitFor("probed the child", () => statusOf(sup, "mlx").last_error?.includes("critical"));
    expect(statusOf(sup, "mlx").state).toBe("starting");
  }), 30_000);

  test("a foreign listener on an owned service's port: conflict naming pid and command, no duplicate started", () => scoped(async (cleanup) => {
    const tag = crypto.randomUUID();
    const port = freePort();
    const foreign = Bun.spawn([process.execPath, FOREIGN, String(port)], { stdout: "pipe", stderr: "inherit" });
    cleanup.push(() => foreign.kill("SIGKILL"));
    await waitFor("foreign listening", () => fetch(`http://127.0.0.1:${port}/`).then(() => true));
    const { sup, ready } = start(cleanup, [ownedService("mlx", port, tag)]);
    await ready;
    const s = await waitFor("conflict", () => statusOf(sup, "mlx").state === "conflict" && statusOf(sup, "mlx"));
    expect(s.holder?.pid).toBe(foreign.pid);
    expect(s.holder?.command).toContain("foreign-server.ts");
    expect(s.last_error).toContain(`pid ${foreign.pid}`);
    expect(s.pid).toBeNull();
    await upOnceThePortIsFree(sup, "mlx", tag, foreign);
  }), 30_000);

  test("stop(): TERM to the process group reaches grandchildren; KILL after the grace for a child ignoring TERM", () => scoped(async (cleanup) => {
    const tagA = crypto.randomUUID();
    const tagB = crypto.randomUUID();
    const { sup, ready } = start(cleanup, [
      ownedService("a", freePort(), tagA, { GRANDCHILD: "1" }),
      ownedService("b", freePort(), tagB, { IGNORE_TERM: "1" }),
    ]);
    await ready;
    await waitFor("both up", () => statusOf(sup, "a").state === "up" && statusOf(sup, "b").state === "up");
    const pgidA = statusOf(sup, "a").pid!;
    await waitFor("grandchild", () => groupMembers(pgidA).length >= 2);
    await sup.stop();
    expect(processesMatching(tagA)).toEqual([]);
    expect(processesMatching(tagB)).toEqual([]);
    expect(groupMembers(pgidA)).toEqual([]);
    expect(sup.status().every((s) => s.state === "stopped")).toBe(true);
  }), 30_000);

  test("HealthView: a provider at a down service's port is skipped; one pointed elsewhere is not gated", () => scoped(async (cleanup) => {
    const port = freePort();
    const watched: Service = { name: "victoria", port, health: `http://127.0.0.1:${port}/health`, provider: "victoria", interval_s: 0.1, timeout_s: 0.5 };
    const other: Service = { ...watched, name: "ollama", provider: "ollama" };
    const provider = (name: string, url: string): Provider =>
      ({ name, kind: "victoria", urls: [url], tools: "none", max_concurrency: 0, max_fails: 3, cooldown_s: 0, queue_timeout_s: 0, timeout_s: 0, project_context: "keep", show_progress: false }) as Provider;
    const { sup, ready } = start(cleanup, [watched, other], FAST, [provider("victoria", `http://localhost:${port}`), provider("ollama", "http://10.0.0.9:11434")]);
    await ready;
    await waitFor("down", () => statusOf(sup, "victoria").state === "down");
    expect(sup.downReason("victoria")).toMatch(/service victoria is down/);
    expect(sup.downReason("ollama")).toBeUndefined();
    expect(sup.downReason("nobody")).toBeUndefined();
  }), 30_000);
});
