/**
 * install → stop → start → restart → uninstall against stand-in launchctl/systemctl/brew that
 * record their argv. The "daemon" they would start is a real test daemon already listening on
 * ATRAD_PORT, so install's wait for /health is real too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../src/cli/index.ts";
import { startTestDaemon, type TestDaemon } from "../support/daemon.ts";
import { captureIO, deadPort, sandbox, type Sandbox } from "./support.ts";

let daemon: TestDaemon;
beforeAll(async () => {
  daemon = await startTestDaemon("");
});
afterAll(async () => {
  await daemon.stop();
});

/** A sandbox whose config points Ollama at a dead port, so "brew's Ollama is not running". */
function setup(tools: Array<"launchctl" | "systemctl" | "brew">): Sandbox & { fakeBinary: string } {
  const box = sandbox(tools);
  mkdirSync(box.atradHome, { recursive: true });
  writeFileSync(join(box.atradHome, "config.toml"), `[providers.ollama]\nkind = "anthropic"\nurl = "http://127.0.0.1:${deadPort()}"\n`);
  const fakeBinary = join(box.root, "atrad-built");
  writeFileSync(fakeBinary, "#!/bin/sh\necho atrad\n");
  box.env.ATRAD_PORT = String(new URL(daemon.url).port);
  return Object.assign(box, { fakeBinary });
}

async function atrad(box: Sandbox, ...argv: string[]) {
  const io = captureIO(box.env);
  const code = await runCli(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

/** Run one command and return what the stand-ins recorded during it. */
async function calls(box: Sandbox, ...argv: string[]) {
  box.clearCalls();
  const r = await atrad(box, ...argv);
  if (r.code !== 0) throw new Error(`atrad ${argv.join(" ")} exited ${r.code}: ${r.err}${r.out}`);
  return { ...r, calls: box.calls() };
}

describe("launchd round trip (stand-in launchctl and brew)", () => {
  test("install twice, stop, start, restart, uninstall: exact launchctl sequences", async () => {
    const box = setup(["launchctl", "brew"]);
    const uid = process.getuid!();
    const job = `gui/${uid}/com.atra.atrad`;
    const plistPath = `${box.home}/Library/LaunchAgents/com.atra.atrad.plist`;
    const installed = `${box.brewPrefix}/bin/atrad`;
    // After every start the pid launchd reports is asked for: the daemon answering must be it.
    const verify = `launchctl print ${job}`;

    const first = await calls(box, "install", "--platform", "darwin", "--binary", box.fakeBinary);
    expect(first.calls).toEqual([
      "brew --prefix",
      "brew list --versions ollama",
      `launchctl print ${job}`, // not loaded yet: no bootout
      `launchctl enable ${job}`,
      `launchctl bootstrap gui/${uid} ${plistPath}`,
      verify,
    ]);
    expect(first.out).toContain("Ollama is installed with Homebrew but not answering");
    expect(first.out).toContain("--with-ollama");
    expect(first.out).toMatch(/atrad 0\.\d+\.\d+ is up at http:\/\/127\.0\.0\.1:\d+ \(launchd job com\.atra\.atrad/);
    expect(statSync(plistPath).mode & 0o777).toBe(0o644);
    expect(statSync(installed).mode & 0o777).toBe(0o755);
    expect(await Bun.file(installed).text()).toBe(await Bun.file(box.fakeBinary).text());

    // Idempotent: the second install boots the loaded job out first, then loads the new one,
    // and finds the binary where the first put it (no `brew --prefix` needed).
    const second = await calls(box, "install", "--platform", "darwin", "--binary", box.fakeBinary, "--with-ollama");
    expect(second.calls).toEqual([
      "brew list --versions ollama",
      "brew services start ollama",
      `launchctl print ${job}`,
      `launchctl bootout ${job}`,
      `launchctl enable ${job}`,
      `launchctl bootstrap gui/${uid} ${plistPath}`,
      verify,
    ]);

    expect((await calls(box, "stop", "--platform", "darwin")).calls).toEqual([`launchctl print ${job}`, `launchctl bootout ${job}`]);
    expect((await calls(box, "start", "--platform", "darwin")).calls).toEqual([
      `launchctl enable ${job}`,
      `launchctl print ${job}`,
      `launchctl bootstrap gui/${uid} ${plistPath}`,
      verify,
    ]);
    expect((await calls(box, "restart", "--platform", "darwin")).calls).toEqual([
      `launchctl print ${job}`,
      `launchctl kickstart -k ${job}`,
      `launchctl enable ${job}`,
      `launchctl print ${job}`, // loaded: no second bootstrap
      verify,
    ]);
    const un = await calls(box, "uninstall", "--platform", "darwin");
    expect(un.calls).toEqual([`launchctl print ${job}`, `launchctl bootout ${job}`]);
    expect(existsSync(plistPath)).toBe(false);
    expect(existsSync(installed)).toBe(false);
    expect(existsSync(join(box.atradHome, "config.toml"))).toBe(true); // kept without --purge
    expect(un.out).toContain("--purge removes them");
  });

  test("start before install says how to fix it; uninstall --purge removes config and logs", async () => {
    const box = setup(["launchctl", "brew"]);
    const r = await atrad(box, "start", "--platform", "darwin");
    expect(r.code).toBe(1);
    expect(r.err).toContain("Fix: atrad install");
    await calls(box, "install", "--platform", "darwin", "--binary", box.fakeBinary);
    await calls(box, "uninstall", "--platform", "darwin", "--purge");
    expect(existsSync(box.atradHome)).toBe(false);
    expect(existsSync(`${box.home}/Library/Logs/atrad`)).toBe(false);
  });
});

describe("systemd --user round trip (stand-in systemctl)", () => {
  test("install twice, stop, start, restart, uninstall: exact systemctl sequences", async () => {
    const box = setup(["systemctl"]);
    const unit = `${box.home}/.config/systemd/user/atrad.service`;
    const probe = "systemctl --user show-environment";
    // After every start the unit's MainPID is asked for: the daemon answering must be it.
    const verify = "systemctl --user show atrad.service --property=MainPID,ActiveState,ExecMainStatus,Result";
    const install = ["systemctl --user daemon-reload", "systemctl --user try-restart atrad.service", "systemctl --user enable --now atrad.service", verify];

    const first = await calls(box, "install", "--platform", "linux", "--binary", box.fakeBinary);
    expect(first.calls).toEqual([probe, ...install]);
    expect(first.out).toContain("loginctl enable-linger tester");
    expect(statSync(unit).mode & 0o777).toBe(0o644);
    expect(existsSync(`${box.home}/.local/bin/atrad`)).toBe(true);
    expect((await calls(box, "install", "--platform", "linux", "--binary", box.fakeBinary)).calls).toEqual([probe, ...install]);

    expect((await calls(box, "stop", "--platform", "linux")).calls).toEqual([probe, "systemctl --user stop atrad.service"]);
    expect((await calls(box, "start", "--platform", "linux")).calls).toEqual([probe, "systemctl --user start atrad.service", verify]);
    expect((await calls(box, "restart", "--platform", "linux")).calls).toEqual([probe, "systemctl --user restart atrad.service", verify]);
    expect((await calls(box, "uninstall", "--platform", "linux")).calls).toEqual([
      probe,
      "systemctl --user disable --now atrad.service",
      "systemctl --user daemon-reload",
    ]);
    expect(existsSync(unit)).toBe(false);
    expect(existsSync(`${box.home}/.local/bin/atrad`)).toBe(false);
  });
});
