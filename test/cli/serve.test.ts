/** `atrad serve` as a real process: the compiled binary, port clashes, unsafe binds, bad config. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBinary, freePort, waitForHealth } from "../support/binary.ts";

let bin: string;
const home = mkdtempSync(join(tmpdir(), "atrad-serve-"));
const env = { ...process.env, ATRAD_HOME: home, HOME: home };

beforeAll(async () => {
  bin = await ensureBinary();
});

async function run(args: string[], extraEnv: Record<string, string> = {}) {
  const p = Bun.spawn([bin, ...args], { env: { ...env, ...extraEnv }, stdout: "pipe", stderr: "pipe", timeout: 15_000 });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { out, err, code };
}

describe("the compiled binary", () => {
  test("--version names atrad and Bun", async () => {
    const r = await run(["--version"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^atrad \d+\.\d+\.\d+ \(bun \d+\.\d+\.\d+, /);
  });

  test("serve answers /health; a second serve on the same port exits non-zero saying the port is in use", async () => {
    const port = freePort();
    const first = Bun.spawn([bin, "serve", "--port", String(port)], { env, stdout: "pipe", stderr: "pipe" });
    try {
      const health = await waitForHealth(`http://127.0.0.1:${port}`);
      expect(health).toMatchObject({ status: "ok" });
      const second = await run(["serve", "--port", String(port)]);
      expect(second.code).not.toBe(0);
      expect(second.err).toContain(`port ${port}`);
      expect(second.err).toContain("in use");
      // The first one is unharmed.
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    } finally {
      first.kill("SIGTERM");
      expect(await first.exited).toBe(0);
    }
  });

  test("a non-loopback host without auth_tokens is refused with a fix", async () => {
    const r = await run(["serve", "--host", "0.0.0.0", "--port", String(freePort())]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("auth_tokens");
  });

  test("a broken config names the file and the key path", async () => {
    const file = join(home, "bad.toml");
    writeFileSync(file, `[providers.x]\nkind = "grpc"\nurl = "http://127.0.0.1:1"\n[server]\nport = "eighty"\n`);
    const r = await run(["serve", "--config", file]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(file);
    expect(r.err).toContain("providers.x.kind");
    expect(r.err).toContain("server.port");
  });
});
