/** The compiled executable under test: CI's install.sh builds it; locally it is built once. */
import { existsSync } from "node:fs";
import { resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "../..");
export const BINARY = resolve(ROOT, "dist/atrad");

export async function ensureBinary(): Promise<string> {
  if (!existsSync(BINARY) || process.env.ATRAD_TEST_REBUILD === "1") {
    const proc = Bun.spawn([process.execPath, "scripts/build.ts"], { cwd: ROOT, stdout: "ignore", stderr: "inherit" });
    if ((await proc.exited) !== 0) throw new Error("building dist/atrad failed");
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
