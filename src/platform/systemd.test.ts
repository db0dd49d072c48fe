import { describe, expect, test } from "bun:test";
import { runCli } from "../cli/index.ts";
import { captureIO, sandbox } from "../../test/platform/support.ts";
import { layoutFor } from "./layout.ts";
import { renderUnit } from "./systemd.ts";

/** Parse a unit file into section → key → values (keys may repeat, e.g. Environment=). */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  let section = "";
  for (const line of text.split("\n")) {
    if (!line.trim() || line.startsWith("#")) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = s[1]!;
      out[section] = {};
      continue;
    }
    const i = line.indexOf("=");
    ((out[section]![line.slice(0, i)] ??= [])).push(line.slice(i + 1));
  }
  return out;
}

describe("systemd --user unit", () => {
  test("--dry-run --platform linux prints the unit, checked key by key", async () => {
    const box = sandbox();
    const io = captureIO(box.env);
    expect(await runCli(["install", "--dry-run", "--platform", "linux"], io)).toBe(0);
    const m = /==> (\S+) \(mode 644\)\n([\s\S]*?)==> steps\n/.exec(io.stdout())!;
    expect(m[1]).toBe(`${box.home}/.config/systemd/user/atrad.service`);
    const u = parseUnit(m[2]!);
    expect(Object.keys(u)).toEqual(["Unit", "Service", "Install"]);
    expect(u.Service!.ExecStart).toEqual([`${box.home}/.local/bin/atrad serve`]);
    expect(u.Service!.Restart).toEqual(["on-failure"]);
    expect(u.Service!.Type).toEqual(["simple"]);
    expect(u.Service!.WorkingDirectory).toEqual([box.atradHome]);
    expect(u.Service!.RestartPreventExitStatus).toEqual(["78 98"]);
    expect(u.Service!.KillMode).toEqual(["mixed"]);
    expect(u.Service!.TimeoutStopSec).toEqual(["30"]);
    const env = u.Service!.Environment!;
    expect(env).toContain(`ATRAD_HOME=${box.atradHome}`);
    expect(env.find((e) => e.startsWith("PATH="))!.split(":")).toContain("/opt/homebrew/bin");
    expect(u.Install!.WantedBy).toEqual(["default.target"]);
    const steps = io.stdout().split("==> steps\n")[1]!;
    expect(steps).toContain("systemctl --user daemon-reload\nsystemctl --user try-restart atrad.service\nsystemctl --user enable --now atrad.service\n");
  });

  test("paths with spaces and % are quoted/escaped for systemd", () => {
    const l = layoutFor({ env: { HOME: "/home/a b", ATRAD_HOME: "/data/100%/atrad" }, platform: "linux", manager: "systemd", port: 8040 });
    const u = parseUnit(renderUnit(l));
    expect(u.Service!.ExecStart).toEqual([`"/home/a b/.local/bin/atrad" serve`]);
    expect(u.Service!.WorkingDirectory).toEqual(["/data/100%%/atrad"]);
  });
  // systemd-analyze verify: test/platform/systemd-verify.test.ts (fails, never skips, without it).
});
