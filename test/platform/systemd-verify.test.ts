/**
 * The unit `atrad install` writes is one systemd accepts: `systemd-analyze verify` on a unit
 * rendered for a home whose path has a space, a `%` and a `$` (each needs its own escaping,
 * and WorkingDirectory= takes no quotes). CI installs systemd for this (apt-get install -y systemd).
 */
import { expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { layoutFor } from "../../src/platform/layout.ts";
import { renderUnit } from "../../src/platform/systemd.ts";

test("systemd-analyze verify passes on a unit for a home with a space, % and $ in its path", async () => {
  const analyze = Bun.which("systemd-analyze");
  if (!analyze) throw new Error("systemd-analyze is not installed, so the unit cannot be verified: apt-get install -y systemd");
  const home = join(mkdtempSync(join(tmpdir(), "atrad-unit-")), "my home 100% $USER");
  const l = layoutFor({ env: { HOME: home, PATH: "/usr/bin:/bin" }, platform: "linux", manager: "systemd", port: 8040 });
  // verify checks that ExecStart's program exists and is executable, and WorkingDirectory too.
  mkdirSync(l.binDir, { recursive: true });
  writeFileSync(l.bin, "#!/bin/sh\n");
  chmodSync(l.bin, 0o755);
  mkdirSync(l.atradHome, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), "atrad-unit-file-"));
  const file = join(dir, "atrad.service");
  writeFileSync(file, renderUnit(l));
  const p = Bun.spawn([analyze, "verify", file], { stdout: "pipe", stderr: "pipe", env: { ...process.env, SYSTEMD_LOG_LEVEL: "warning" } });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  // Every complaint about our file names it; other units' noise (none in a container) does not.
  const ours = `${out}${err}`.split("\n").filter((line) => line.includes("atrad.service"));
  expect(ours).toEqual([]);
  expect(code).toBe(0);
  expect(renderUnit(l)).toContain(`WorkingDirectory=${l.atradHome.replaceAll("%", "%%")}\n`);
}, 20_000);
