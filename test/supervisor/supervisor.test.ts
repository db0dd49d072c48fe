/**
 * The supervisor with real child processes: small servers (test/fixtures/services) it starts,
 * kills, restarts and gives up on. Timings are shrunk through SupervisorTiming; assertions are
 * about states and pids, never about how long anything took.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Provider, Service } from "../../src/config/load.ts";
import { silentLogger } from "../../src/log.ts";
import { Supervisor, type SupervisorTiming } from "../../src/supervisor/supervisor.ts";
import { freePort, groupMembers, processesMatching, waitFor } from "../support/procs.ts";

const FIXTURE = resolve(import.meta.dir, "../fixtures/services/health-server.ts");
const FOREIGN = resolve(import.meta.dir, "../fixtures/services/foreign-server.ts");
const FAST: SupervisorTiming = { intervalMs: 100, backoffBaseMs: 50, backoffMaxMs: 200, startTimeoutMs: 5000, graceMs: 1000, failThreshold: 2 };

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function ownedService(name: string, port: number, tag: string, env: Record<string, string> = {}, extra: Partial<Service> = {}): Service {
  return {
    name,
    port,
    health: `http://127.0.0.1:${port}/health`,
    expect: { status: ["healthy", "warning", "degraded"] },
    command: [process.execPath, FIXTURE, `--tag=${tag}`],
    env: { PORT: String(port), ...env },
    interval_s: 0.1,
    timeout_s: 1,
    ...extra,
  };
}

function start(services: Service[], timing: SupervisorTiming = FAST, providers: Provider[] = []) {
  const home = mkdtempSync(join(tmpdir(), "atrad-sup-"));
  const sup = new Supervisor(services, providers, { home, logger: silentLogger, timing });
  cleanup.push(() => sup.stop());
  return { sup, home, ready: sup.start() };
}

const svc = (sup: Supervisor, name: string) => sup.status().find((s) => s.name === name)!;

describe("supervisor with real children", () => {
  test("SIGKILL of an owned child: restarted with a new pid and the restart counted", async () => {
    const tag = crypto.randomUUID();
    const { sup, ready } = start([ownedService("mlx", freePort(), tag)]);
    await ready;
    const first = await waitFor("first up", () => svc(sup, "mlx").state === "up" && svc(sup, "mlx").pid);
    process.kill(first, "SIGKILL");
    const second = await waitFor("restarted up", () => {
      const s = svc(sup, "mlx");
      return s.state === "up" && s.pid !== first && s.pid;
    });
    expect(second).not.toBe(first);
    expect(svc(sup, "mlx").restarts).toBe(1);
    expect(processesMatching(tag).map((p) => p.pid)).toEqual([second]);
  });

  test("crash loop: backoff, then failed within the budget, with the log's last lines", async () => {
    const tag = crypto.randomUUID();
    const { sup, ready } = start([ownedService("crashy", freePort(), tag, { CRASH_AFTER_MS: "150" })], { ...FAST, budget: 3 });
    await ready;
    const seen = new Set<string>();
    await waitFor("failed", () => {
      seen.add(svc(sup, "crashy").state);
      return svc(sup, "crashy").state === "failed";
    }, 20_000, 10);
    const s = svc(sup, "crashy");
    expect(seen.has("backoff")).toBe(true);
    expect(s.restarts).toBe(3);
    expect(s.last_error).toMatch(/gave up after 3 restarts/);
    expect(s.log_tail?.join("\n")).toMatch(/crashing on purpose/);
    expect(s.pid).toBeNull();
    expect(processesMatching(tag)).toEqual([]);
  });

  test("200 with an unhealthy body is never up", async () => {
    const port = freePort();
    const server = Bun.serve({ hostname: "127.0.0.1", port, fetch: () => Response.json({ status: "unhealthy", error: "database down" }) });
    cleanup.push(() => server.stop(true));
    const watched: Service = { name: "knowledge_os", port, health: `http://127.0.0.1:${port}/health`, expect: { status: ["healthy"] }, interval_s: 0.1, timeout_s: 1 };
    const { sup, ready } = start([watched]);
    await ready;
    const s = await waitFor("probed", () => svc(sup, "knowledge_os").state !== "starting" && svc(sup, "knowledge_os"));
    expect(s.state).toBe("down");
    expect(s.last_error).toMatch(/"unhealthy".*database down/);
  });

  test("an owned child answering 200-but-critical stays out of up and is not called a conflict", async () => {
    const tag = crypto.randomUUID();
    const port = freePort();
    const { sup, ready } = start([ownedService("mlx", port, tag, { HEALTH_BODY: JSON.stringify({ status: "critical" }) })]);
    await ready;
    await waitFor("probed the child", () => svc(sup, "mlx").last_error?.includes("critical"));
    expect(svc(sup, "mlx").state).toBe("starting");
  });

  test("a foreign listener on an owned service's port: conflict naming pid and command, no duplicate started", async () => {
    const tag = crypto.randomUUID();
    const port = freePort();
    const foreign = Bun.spawn([process.execPath, FOREIGN, String(port)], { stdout: "pipe", stderr: "inherit" });
    cleanup.push(() => foreign.kill("SIGKILL"));
    await waitFor("foreign listening", () => fetch(`http://127.0.0.1:${port}/`).then(() => true));
    const { sup, ready } = start([ownedService("mlx", port, tag)]);
    await ready;
    const s = await waitFor("conflict", () => svc(sup, "mlx").state === "conflict" && svc(sup, "mlx"));
    expect(s.holder?.pid).toBe(foreign.pid);
    expect(s.holder?.command).toContain("foreign-server.ts");
    expect(s.last_error).toContain(`pid ${foreign.pid}`);
    expect(s.pid).toBeNull();
    expect(processesMatching(tag)).toEqual([]);
    foreign.kill("SIGKILL");
    await waitFor("started once the port is free", () => svc(sup, "mlx").state === "up");
    expect(processesMatching(tag)).toHaveLength(1);
  });

  test("stop(): TERM to the process group reaches grandchildren; KILL after the grace for a child ignoring TERM", async () => {
    const tagA = crypto.randomUUID();
    const tagB = crypto.randomUUID();
    const { sup, ready } = start([
      ownedService("a", freePort(), tagA, { GRANDCHILD: "1" }),
      ownedService("b", freePort(), tagB, { IGNORE_TERM: "1" }),
    ]);
    await ready;
    await waitFor("both up", () => svc(sup, "a").state === "up" && svc(sup, "b").state === "up");
    const pgidA = svc(sup, "a").pid!;
    await waitFor("grandchild", () => groupMembers(pgidA).length >= 2);
    await sup.stop();
    expect(processesMatching(tagA)).toEqual([]);
    expect(processesMatching(tagB)).toEqual([]);
    expect(groupMembers(pgidA)).toEqual([]);
    expect(sup.status().every((s) => s.state === "stopped")).toBe(true);
  });

  test("HealthView: a provider at a down service's port is skipped; one pointed elsewhere is not gated", async () => {
    const port = freePort();
    const watched: Service = { name: "victoria", port, health: `http://127.0.0.1:${port}/health`, provider: "victoria", interval_s: 0.1, timeout_s: 0.5 };
    const other: Service = { ...watched, name: "ollama", provider: "ollama" };
    const provider = (name: string, url: string): Provider =>
      ({ name, kind: "victoria", urls: [url], tools: "none", max_concurrency: 0, max_fails: 3, cooldown_s: 0, queue_timeout_s: 0, timeout_s: 0, project_context: "keep", show_progress: false }) as Provider;
    const { sup, ready } = start([watched, other], FAST, [provider("victoria", `http://localhost:${port}`), provider("ollama", "http://10.0.0.9:11434")]);
    await ready;
    await waitFor("down", () => svc(sup, "victoria").state === "down");
    expect(sup.downReason("victoria")).toMatch(/service victoria is down/);
    expect(sup.downReason("ollama")).toBeUndefined();
    expect(sup.downReason("nobody")).toBeUndefined();
  });
});
