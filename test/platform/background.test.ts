/**
 * No service manager (containers, CI): install/stop/start/restart/uninstall run a real
 * background `atrad serve` with a pidfile. The "binary" runs this checkout's source.
 */
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../src/cli/index.ts";
import { probeHealth } from "../../src/platform/health.ts";
import { isAlive, readPid } from "../../src/platform/pidfile.ts";
import { captureIO, deadPort, fakeAtradBinary, sandbox } from "./support.ts";

test("background mode: install (twice), stop, start, restart, uninstall with a pidfile", async () => {
  const box = sandbox();
  const port = deadPort();
  const url = `http://127.0.0.1:${port}`;
  Object.assign(box.env, { ATRAD_SERVICE_MANAGER: "none", ATRAD_PORT: String(port) });
  mkdirSync(box.atradHome, { recursive: true });
  // Keep the daemon's zero-config defaults from probing the real stack on this machine.
  writeFileSync(join(box.atradHome, "config.toml"), "[services.mlx]\nenabled = false\n[services.victoria]\nenabled = false\n");
  const binary = fakeAtradBinary(box.root);
  const pidFile = join(box.atradHome, "atrad.pid");
  const run = async (...argv: string[]) => {
    const io = captureIO(box.env);
    const code = await runCli(argv, io);
    if (code !== 0) throw new Error(`atrad ${argv.join(" ")}: ${io.stderr()}${io.stdout()}`);
    return io.stdout();
  };

  try {
    const out = await run("install", "--platform", "linux", "--binary", binary);
    expect(out).toContain("no service manager here");
    const pid1 = readPid(pidFile)!;
    expect(isAlive(pid1)).toBe(true);
    expect((await probeHealth(url)).state).toBe("atrad");
    expect(existsSync(join(box.home, ".local/bin/atrad"))).toBe(true);

    // Re-install replaces the running process (an upgrade must not leave the old one serving).
    await run("install", "--platform", "linux", "--binary", binary);
    const pid2 = readPid(pidFile)!;
    expect(pid2).not.toBe(pid1);
    expect(isAlive(pid1)).toBe(false);

    await run("stop");
    expect(isAlive(pid2)).toBe(false);
    expect(existsSync(pidFile)).toBe(false);
    expect((await probeHealth(url)).state).toBe("down");

    await run("start");
    const pid3 = readPid(pidFile)!;
    expect((await probeHealth(url)).state).toBe("atrad");
    expect(await run("start")).toContain("already running"); // idempotent

    await run("restart");
    expect(isAlive(pid3)).toBe(false);
    expect((await probeHealth(url)).state).toBe("atrad");

    await run("uninstall");
    expect((await probeHealth(url)).state).toBe("down");
    expect(existsSync(join(box.home, ".local/bin/atrad"))).toBe(false);
    expect(existsSync(join(box.atradHome, "logs/atrad.log"))).toBe(true);
  } finally {
    const pid = readPid(pidFile);
    if (pid && isAlive(pid)) process.kill(pid, "SIGKILL");
  }
}, 60_000);
