/**
 * The compiled executable under test: CI's install.sh builds it; locally it is built when it is
 * missing or older than what it is built from (src/, the build script, the lockfile, this Bun),
 * so every test runs today's code and none pays for a build that changes nothing.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "../..");
export const BINARY = resolve(ROOT, "dist/atrad");

/** The newest modification time among the executable's inputs. */
function newestInput(): number {
  let newest = Math.max(...["scripts/build.ts", "package.json", "bun.lock"].map((f) => statSync(join(ROOT, f)).mtimeMs), statSync(process.execPath).mtimeMs);
  const visit = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) visit(p);
      else if (!e.name.endsWith(".test.ts")) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  visit(join(ROOT, "src"));
  return newest;
}

export async function ensureBinary(): Promise<string> {
  if (process.env.ATRAD_TEST_REBUILD === "1" || !existsSync(BINARY) || statSync(BINARY).mtimeMs < newestInput()) {
    // Built beside it and renamed over it: a test running the old one in another worker keeps
    // its file, and no one ever executes a half-written binary.
    mkdirSync(resolve(ROOT, "dist"), { recursive: true });
    const out = mkdtempSync(resolve(ROOT, "dist/.build-"));
    try {
      const proc = Bun.spawn([process.execPath, "scripts/build.ts", "--outdir", out], { cwd: ROOT, stdout: "ignore", stderr: "inherit" });
      if ((await proc.exited) !== 0) throw new Error("building dist/atrad failed");
      renameSync(join(out, "atrad"), BINARY);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
  return BINARY;
}

/** A loopback port that was free a moment ago (for processes that must be told a port). */
export { freePort } from "./procs.ts";

export async function waitForHealth(url: string, timeoutMs = 10_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return await res.json();
    } catch {}
    if (Date.now() > until) throw new Error(`${url}/health did not answer within ${timeoutMs} ms`);
    await Bun.sleep(50);
  }
}
