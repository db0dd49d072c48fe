/**
 * The test preload (test/support/preload.ts): a run whose tests write into HOME fails and says
 * what was written; one that keeps to temp dirs passes; a clone without `bun install` gets one
 * line saying to run it, instead of a "Could not resolve" per file.
 */
import { describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");

function bunTest(cwd: string, file: string) {
  const r = Bun.spawnSync([process.execPath, "test", file], { cwd, env: { ...process.env, FORCE_COLOR: "0" }, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: r.stdout.toString() + r.stderr.toString() };
}

describe("HOME is a temp dir that must stay empty", () => {
  test("HOME and the XDG folders of this very run are temp dirs, and HOME is still empty", async () => {
    const { leftInHome } = await import("../support/preload.ts");
    expect(process.env.HOME!.startsWith(tmpdir())).toBe(true);
    expect(process.env.XDG_CONFIG_HOME!.startsWith(tmpdir())).toBe(true);
    expect(process.env.XDG_CACHE_HOME!.startsWith(tmpdir())).toBe(true);
    expect(leftInHome()).toEqual([]);
  });

  test("a test whose child process writes into ~ fails the run, naming what it wrote", () => {
    const r = bunTest(ROOT, "./test/fixtures/preload/writes-home.ts");
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/a test wrote into HOME \(.*atrad-test-home-[^)]*\): \.written-by-a-test\./);
  });

  test("a test that writes only into its own temp dir passes", () => {
    const r = bunTest(ROOT, "./test/fixtures/preload/clean.ts");
    expect(r.out).toContain("1 pass");
    expect(r.code).toBe(0);
  });
});

test("without `bun install`: one line saying to run it, not an error per file", () => {
  const clone = mkdtempSync(join(tmpdir(), "atrad-no-deps-"));
  for (const f of ["package.json", "bunfig.toml", "test/support/preload.ts"]) cpSync(join(ROOT, f), join(clone, f), { recursive: true });
  mkdirSync(join(clone, "src"));
  for (const n of [1, 2, 3]) writeFileSync(join(clone, `src/t${n}.test.ts`), `import { parse } from "smol-toml";\nimport { test } from "bun:test";\ntest("t", () => { parse(""); });\n`);
  const r = bunTest(clone, "src");
  expect(r.code).not.toBe(0);
  const lines = r.out.split("\n").filter((l) => l.includes("bun install"));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^atrad tests: dependencies are not installed \(@sinclair\/typebox, .+\): run `bun install` in /);
  expect(r.out).not.toContain("Could not resolve");
});
