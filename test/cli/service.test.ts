/** `atrad install --dry-run`: what the plan shows, in a sandboxed home with stand-in tools. */
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../src/cli/index.ts";
import { captureIO, sandbox } from "../platform/support.ts";

describe("atrad install --dry-run", () => {
  const cases: Array<[string, (installed: string, root: string) => string, boolean]> = [
    ["another executable is copied into place", (_installed, root) => exe(join(root, "new-atrad")), true],
    ["the installed binary itself: no copy onto itself", (installed) => installed, false],
    ["a symlink to the installed binary: no copy either", (installed, root) => (symlinkSync(installed, join(root, "link")), join(root, "link")), false],
  ];
  test.each(cases)("%s", async (_case, binaryOf, copies) => {
    const box = sandbox(["systemctl"]);
    const prefix = join(box.root, "prefix");
    const installed = exe(join(prefix, "bin", "atrad"));
    const binary = binaryOf(installed, box.root);
    const io = captureIO({ ...box.env, ATRAD_SERVICE_MANAGER: "systemd" });
    expect(await runCli(["install", "--dry-run", "--platform", "linux", "--prefix", prefix, "--binary", binary], io)).toBe(0);
    const steps = io.stdout().slice(io.stdout().indexOf("==> steps"));
    expect(steps).toContain("systemctl --user");
    expect(steps.includes(`install -m 755 ${binary} ${installed}`)).toBe(copies);
    expect(steps).not.toContain(`install -m 755 ${installed} ${installed}`);
    expect(box.calls().filter((c) => !c.startsWith("systemctl --user show-environment"))).toEqual([]);
  });
});

function exe(path: string): string {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, "#!/bin/sh\nexit 0\n");
  chmodSync(path, 0o755);
  return path;
}
