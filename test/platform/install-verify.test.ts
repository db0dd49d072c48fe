/**
 * `atrad install` verifies its own work: with another atrad already on the port, the daemon it
 * starts exits (port in use) and install fails naming why — it must not report the other one
 * as "up". Background mode (no service manager), so the daemon it starts is real.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../src/cli/index.ts";
import { parseLaunchctlPrint, parseSystemctlShow } from "../../src/platform/identity.ts";
import { isAlive, readPid } from "../../src/platform/pidfile.ts";
import { startTestDaemon, type TestDaemon } from "../support/daemon.ts";
import { captureIO, fakeAtradBinary, sandbox } from "./support.ts";

let other: TestDaemon | undefined;
afterEach(async () => {
  await other?.stop();
  other = undefined;
});

describe("install verifies the daemon it started", () => {
  test("another atrad holds the port: install fails with the reason, not 'is up'", async () => {
    other = await startTestDaemon("");
    const box = sandbox();
    Object.assign(box.env, { ATRAD_SERVICE_MANAGER: "none", ATRAD_PORT: new URL(other.url).port });
    mkdirSync(box.atradHome, { recursive: true });
    writeFileSync(join(box.atradHome, "config.toml"), ["ollama", "mlx", "victoria", "veronica", "knowledge_os"].map((n) => `[services.${n}]\nenabled = false\n`).join(""));
    const io = captureIO(box.env);
    const code = await runCli(["install", "--platform", "linux", "--binary", fakeAtradBinary(box.root)], io);
    const pid = readPid(join(box.atradHome, "atrad.pid"));
    try {
      expect(code).toBe(1);
      expect(io.stdout()).not.toContain("is up");
      expect(io.stderr()).toContain("the atrad just started is not running");
      expect(io.stderr()).toContain(`pid ${pid} exited`);
      expect(io.stderr()).toContain("in use"); // from the daemon's own log line
      expect(io.stderr()).toContain(`(pid ${process.pid}) answers at`);
    } finally {
      if (pid && isAlive(pid)) process.kill(pid, "SIGKILL");
    }
  }, 30_000);
});

describe("what the service managers say about the job", () => {
  const rows: Array<[string, string, ReturnType<typeof parseLaunchctlPrint>]> = [
    ["launchd running", "com.atra.atrad = {\n\tstate = running\n\tpid = 4242\n\tlast exit code = (never exited)\n}", { pid: 4242 }],
    ["launchd ended with a port clash", "com.atra.atrad = {\n\tstate = not running\n\tlast exit code = 98\n}", { ended: "launchd job not running, last exit code 98" }],
    ["launchd just bootstrapped", "com.atra.atrad = {\n\tstate = spawn scheduled\n\tlast exit code = (never exited)\n}", {}],
  ];
  for (const [name, text, want] of rows) test(name, () => expect(parseLaunchctlPrint(text)).toEqual(want));
  test("systemd running", () => expect(parseSystemctlShow("MainPID=77\nActiveState=active\nExecMainStatus=0\nResult=success\n")).toEqual({ pid: 77 }));
  test("systemd gave up on exit 98", () =>
    expect(parseSystemctlShow("MainPID=0\nActiveState=failed\nExecMainStatus=98\nResult=exit-code\n")).toEqual({ ended: "unit failed, exit status 98 (exit-code)" }));
  test("systemd restarting after an exit", () => expect(parseSystemctlShow("MainPID=0\nActiveState=activating\nExecMainStatus=1\n")).toEqual({}));
});

describe("exits the service managers must not relaunch", () => {
  test("under launchd a config error exits 0 (KeepAlive relaunches only failing exits); elsewhere 78", async () => {
    const box = sandbox();
    mkdirSync(box.atradHome, { recursive: true });
    writeFileSync(join(box.atradHome, "config.toml"), `[server]\nport = "eighty"\n`);
    const serve = async (extra: Record<string, string>) => {
      const p = Bun.spawn([process.execPath, join(import.meta.dir, "../../src/main.ts"), "serve"], { env: { ...box.env, PATH: process.env.PATH!, ...extra }, stdout: "ignore", stderr: "pipe" });
      return { code: await p.exited, err: await new Response(p.stderr).text() };
    };
    const [plain, launchd] = await Promise.all([serve({}), serve({ ATRAD_SUPERVISED_BY: "launchd" })]);
    expect(plain.code).toBe(78);
    expect(launchd.code).toBe(0);
    expect(launchd.err).toContain("server.port");
    expect(launchd.err).toContain("exiting 0 (not 78) so launchd does not relaunch");
  });
});
