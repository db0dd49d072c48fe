/** `atrad status` and `atrad logs` through runCli, against an in-process daemon and against none. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appendFileSync, mkdirSync, mkdtempSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli/index.ts";
import type { CliIO } from "../../src/cli/io.ts";
import { statusDocumentError } from "../../src/observe/status-document.ts";
import { startTestDaemon, type TestDaemon } from "../support/daemon.ts";
import { freePort, waitFor } from "../support/procs.ts";
import { noDefaultServices, ownedServiceToml } from "../support/services.ts";

function captureIO(env: Record<string, string>, isTTY = false) {
  const io = { stdout: "", stderr: "", env, isTTY, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io as CliIO & { stdout: string; stderr: string };
}

let daemon: TestDaemon;
let tag: string;
beforeAll(async () => {
  tag = crypto.randomUUID();
  daemon = await startTestDaemon(noDefaultServices("mlx") + ownedServiceToml("mlx", freePort(), tag));
  await waitFor("mlx up", () => daemon.supervisor!.status()[0]!.state === "up");
});
afterAll(() => daemon.stop());

describe("atrad status with the daemon up", () => {
  test("--json is the /atrad/status document, found through the daemon's state file", async () => {
    const io = captureIO({ ATRAD_HOME: daemon.home });
    expect(await runCli(["status", "--json"], io)).toBe(0);
    const doc = JSON.parse(io.stdout);
    expect(doc.daemon).toEqual({ running: true, pid: process.pid, version: expect.any(String), url: daemon.url, uptime_s: expect.any(Number) });
    expect(doc.services).toHaveLength(1);
    const s = doc.services[0];
    expect(s).toMatchObject({ name: "mlx", state: "up", owned: true, restarts: 0, last_error: null });
    expect(typeof s.port).toBe("number");
    expect(typeof s.pid).toBe("number");
    expect(new Date(s.since).toISOString()).toBe(s.since);
    expect(Array.isArray(doc.providers)).toBe(true);
    expect(statusDocumentError(doc)).toBeUndefined();
  });

  test("the table, plain when piped and coloured on a TTY", async () => {
    const plain = captureIO({ ATRAD_HOME: mkdtempSync(join(tmpdir(), "atrad-cli-")) });
    expect(await runCli(["status", "--url", daemon.url], plain)).toBe(0);
    expect(plain.stdout).toMatch(/running\s+pid \d+/);
    expect(plain.stdout).toMatch(/^mlx\s+\d+\s+up\s+yes\s+\d+\s+0/m);
    expect(plain.stdout).not.toContain("\x1b[");
    const tty = captureIO({ ATRAD_HOME: daemon.home }, true);
    expect(await runCli(["status"], tty)).toBe(0);
    expect(tty.stdout).toContain("\x1b[32mup\x1b[0m");
  });

  test("GET /atrad/status serves the same document", async () => {
    const doc = (await (await fetch(`${daemon.url}/atrad/status`)).json()) as { services: Array<{ name: string; state: string }> };
    expect(doc.services.map((s) => [s.name, s.state])).toEqual([["mlx", "up"]]);
  });
});

describe("atrad status with no daemon", () => {
  test("says so, probes the services directly, exits 3", async () => {
    const home = mkdtempSync(join(tmpdir(), "atrad-cli-"));
    const healthy = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => Response.json({ status: "healthy" }) });
    const sick = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => Response.json({ status: "unhealthy", error: "db" }) });
    try {
      writeFileSync(
        join(home, "config.toml"),
        `[server]\nport = ${freePort()}\n${noDefaultServices()}` +
          `[services.good]\nhealth = "http://127.0.0.1:${healthy.port}/health"\nexpect = { status = ["healthy"] }\n` +
          `[services.knowledge]\nhealth = "http://127.0.0.1:${sick.port}/health"\nexpect = { status = ["healthy"] }\n`,
      );
      const io = captureIO({ ATRAD_HOME: home });
      expect(await runCli(["status", "--json"], io)).toBe(3);
      const doc = JSON.parse(io.stdout);
      expect(statusDocumentError(doc)).toBeUndefined();
      expect(doc.daemon.running).toBe(false);
      expect(doc.services.map((s: { name: string; state: string }) => [s.name, s.state])).toEqual([["good", "up"], ["knowledge", "down"]]);
      const table = captureIO({ ATRAD_HOME: home });
      expect(await runCli(["status"], table)).toBe(3);
      expect(table.stdout).toContain("not running");
      expect(table.stdout).toMatch(/knowledge\s+\d+\s+down.*"unhealthy"/);
    } finally {
      healthy.stop(true);
      sick.stop(true);
    }
  });
});

describe("atrad status against something that is not atrad's status", () => {
  const cases: Array<[string, unknown, string]> = [
    ["a document missing services", { daemon: { running: true, pid: 1, version: "9", url: "x", uptime_s: 1 }, providers: [] }, "/services"],
    ["a service in a state atrad has no name for", { daemon: { running: true, pid: 1, version: "9", url: "x", uptime_s: 1 }, providers: [], services: [{ name: "m", port: 1, state: "sleeping", owned: false, pid: null, restarts: 0, since: "", last_error: null }] }, "/services/0/state"],
    ["some other JSON API", { status: "ok" }, "/daemon"],
  ];
  test.each(cases)("%s: a clear error naming the field, exit 1, the services still probed", async (_case, body, path) => {
    const other = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => Response.json(body) });
    try {
      const home = mkdtempSync(join(tmpdir(), "atrad-cli-"));
      writeFileSync(join(home, "config.toml"), noDefaultServices());
      const io = captureIO({ ATRAD_HOME: home });
      expect(await runCli(["status", "--json", "--url", `http://127.0.0.1:${other.port}`], io)).toBe(1);
      expect(io.stderr).toContain(`http://127.0.0.1:${other.port} answered JSON that is not atrad's status document (${path}`);
      expect(JSON.parse(io.stdout).daemon.running).toBe(false);
    } finally {
      other.stop(true);
    }
  });
});

describe("atrad status --timeout", () => {
  test.each(["0", "0.0", "soon", ""])("%p is not a number of seconds above 0: exit 2 with the usage, nothing asked", async (value) => {
    const io = captureIO({ ATRAD_HOME: mkdtempSync(join(tmpdir(), "atrad-cli-")) });
    expect(await runCli(["status", "--timeout", value, "--url", "http://127.0.0.1:9"], io)).toBe(2);
    expect(io.stderr).toContain(`--timeout "${value}" is not a number of seconds above 0`);
    expect(io.stderr).toContain("Usage: atrad status");
    expect(io.stdout).toBe("");
  });
});

describe("atrad logs", () => {
  test("prints the daemon log, a service log, and says which logs exist", async () => {
    const home = mkdtempSync(join(tmpdir(), "atrad-logs-"));
    mkdirSync(join(home, "logs"));
    writeFileSync(join(home, "logs", "atrad.log"), "one\ntwo\nthree\n");
    writeFileSync(join(home, "logs", "mlx.log"), "mlx line\n");
    const io = captureIO({ ATRAD_HOME: home });
    expect(await runCli(["logs", "-n", "2"], io)).toBe(0);
    expect(io.stdout).toBe("two\nthree\n");
    const svc = captureIO({ ATRAD_HOME: home });
    expect(await runCli(["logs", "mlx"], svc)).toBe(0);
    expect(svc.stdout).toBe("mlx line\n");
    const missing = captureIO({ ATRAD_HOME: home });
    expect(await runCli(["logs", "nope"], missing)).toBe(1);
    expect(missing.stderr).toContain('there is no log named "nope"');
    expect(missing.stderr).toMatch(/^  mlx +\S+mlx\.log /m);
  });

  test("-f follows appends and starts over after rotation", async () => {
    const { logsCommand } = await import("../../src/cli/logs.ts");
    const { parseInput } = await import("../../src/cli/command.ts");
    const { commands } = await import("../../src/cli/commands.ts");
    const parsed = parseInput(commands.logs!, ["-f", "svc"]);
    if (parsed.help) throw new Error("parsed as --help");
    const home = mkdtempSync(join(tmpdir(), "atrad-logs-"));
    const file = join(home, "logs", "svc.log");
    mkdirSync(join(home, "logs"));
    writeFileSync(file, "old\n");
    const io = captureIO({ ATRAD_HOME: home });
    const ac = new AbortController();
    const done = logsCommand(parsed.input, io, { signal: ac.signal, pollMs: 20 });
    appendFileSync(file, "new 1\n");
    await waitFor("append", () => io.stdout.includes("new 1"));
    truncateSync(file, 0);
    await Bun.sleep(60);
    appendFileSync(file, "after rotation\n");
    await waitFor("after rotation", () => io.stdout.includes("after rotation"));
    ac.abort();
    expect(await done).toBe(0);
    expect(io.stdout).toBe("old\nnew 1\nafter rotation\n");
  });
});
