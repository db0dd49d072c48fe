import { VERSION } from "../version.ts";
import { describe, expect, test } from "bun:test";
import * as plist from "plist";
import { runCli } from "../cli/index.ts";
import { captureIO, sandbox } from "../../test/platform/support.ts";
import { renderPlist } from "./launchd.ts";
import { layoutFor } from "./layout.ts";

/** The `--dry-run --platform darwin` output, split into the plist file and the steps. */
async function dryRun(env: Record<string, string>, extra: string[] = []) {
  const io = captureIO(env);
  const code = await runCli(["install", "--dry-run", "--platform", "darwin", ...extra], io);
  const text = io.stdout();
  const file = /==> (\S+) \(mode (\d+)\)\n([\s\S]*?)==> steps\n/.exec(text);
  return { code, text, path: file?.[1], mode: file?.[2], plistText: file?.[3] ?? "", steps: text.split("==> steps\n")[1]!.trim().split("\n") };
}

describe("launchd plist", () => {
  test("--dry-run --platform darwin prints a plist a real parser reads, key by key", async () => {
    const box = sandbox(["brew"]);
    const { code, path, mode, plistText } = await dryRun({ ...box.env, ATRAD_CONFIG: `${box.root}/my config.toml` });
    expect(code).toBe(0);
    expect(path).toBe(`${box.home}/Library/LaunchAgents/com.atra.atrad.plist`);
    expect(mode).toBe("644");
    const p = plist.parse(plistText) as Record<string, any>;
    expect(p.Label).toBe("com.atra.atrad");
    expect(p.Label.startsWith("homebrew.")).toBe(false);
    // brew is on PATH, so the binary goes to Homebrew's prefix.
    expect(p.ProgramArguments).toEqual([`${box.brewPrefix}/bin/atrad`, "serve"]);
    expect(p.RunAtLoad).toBe(true);
    // Relaunched after a crash or a failing exit; `serve` exits 0 under launchd when a relaunch can't help.
    expect(p.KeepAlive).toEqual({ SuccessfulExit: false, Crashed: true });
    expect(p.EnvironmentVariables.ATRAD_SUPERVISED_BY).toBe("launchd");
    expect(p.ThrottleInterval).toBe(10);
    expect(p.ExitTimeOut).toBe(30);
    expect(p.ProcessType).toBe("Interactive");
    // Homebrew's set, so an install over SSH loads too.
    expect(p.LimitLoadToSessionType).toEqual(["Aqua", "Background", "LoginWindow", "StandardIO", "System"]);
    expect(p.WorkingDirectory).toBe(box.atradHome);
    expect(p.StandardOutPath).toBe(`${box.home}/Library/Logs/atrad/atrad.log`);
    expect(p.StandardErrorPath).toBe(`${box.home}/Library/Logs/atrad/atrad.log`);
    expect(p.EnvironmentVariables.ATRAD_HOME).toBe(box.atradHome);
    expect(p.EnvironmentVariables.ATRAD_CONFIG).toBe(`${box.root}/my config.toml`);
    const path_ = p.EnvironmentVariables.PATH.split(":");
    expect(path_).toContain("/opt/homebrew/bin");
    expect(path_).toContain("/usr/local/bin");
    expect(path_[0]).toBe(`${box.brewPrefix}/bin`);
    expect(Object.keys(p).sort()).toEqual(
      ["EnvironmentVariables", "ExitTimeOut", "KeepAlive", "Label", "LimitLoadToSessionType", "ProcessType", "ProgramArguments", "RunAtLoad", "StandardErrorPath", "StandardOutPath", "ThrottleInterval", "WorkingDirectory"].sort(),
    );
    // launchd expands neither ~ nor $VARS: every path must be absolute.
    for (const s of [p.ProgramArguments[0], p.WorkingDirectory, p.StandardOutPath, p.EnvironmentVariables.ATRAD_HOME]) expect(s.startsWith("/")).toBe(true);
    const values = plistText.replace(/<!--[\s\S]*?-->/g, "");
    expect(values).not.toContain("~/");
    expect(values).not.toContain("$HOME");
  });

  test("dry run lists every command and runs none", async () => {
    const box = sandbox(["brew", "launchctl"]);
    const { steps } = await dryRun(box.env);
    const uid = process.getuid!();
    const plistPath = `${box.home}/Library/LaunchAgents/com.atra.atrad.plist`;
    expect(steps).toContain(`if launchctl print gui/${uid}/com.atra.atrad succeeds: launchctl bootout gui/${uid}/com.atra.atrad`);
    const order = [`launchctl enable gui/${uid}/com.atra.atrad`, `launchctl bootstrap gui/${uid} ${plistPath}`, `wait up to 20 s for http://127.0.0.1:8040/health to answer from the pid the service manager started (atrad ${VERSION})`];
    expect(order.map((l) => steps.indexOf(l))).toEqual([...order.map((l) => steps.indexOf(l))].sort((a, b) => a - b));
    for (const l of order) expect(steps).toContain(l);
    // Only read-only probes ran (brew --prefix, brew list); no launchctl at all.
    expect(box.calls().filter((c) => c.startsWith("launchctl"))).toEqual([]);
    expect(await Bun.file(plistPath).exists()).toBe(false);
  });

  test("values are XML-escaped and substituted once", () => {
    const l = layoutFor({ env: { HOME: "/Users/a&b", ATRAD_HOME: "/x/<@BIN@>" }, platform: "darwin", manager: "launchd", port: 8040, uid: 501 });
    const p = plist.parse(renderPlist(l)) as Record<string, any>;
    expect(p.ProgramArguments[0]).toBe("/Users/a&b/.local/bin/atrad");
    expect(p.WorkingDirectory).toBe("/x/<@BIN@>");
  });
});
