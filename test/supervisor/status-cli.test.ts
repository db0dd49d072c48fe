/** `atrad status` says what it saw: exit codes for failed/conflict and a hung daemon, a rejected reload in the table. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { startDaemon } from "../../src/daemon/daemon.ts";
import { silentLogger } from "../../src/log.ts";
import { startTestDaemon, type TestDaemon } from "../support/daemon.ts";
import { cleanupPerTest, freePort, waitFor } from "../support/procs.ts";
import { FOREIGN, noDefaultServices, ownedServiceToml } from "../support/services.ts";

const MAIN = resolve(import.meta.dir, "../../src/main.ts");
// Each test has its own daemon (or hung listener), ports and cleanup list: they run side by side.
const scoped = cleanupPerTest();

async function status(url: string, home = "/nonexistent-atrad-home", ...more: string[]) {
  const p = Bun.spawn([process.execPath, MAIN, "status", "--url", url, ...more], { env: { ...process.env, ATRAD_HOME: home, ATRAD_CONFIG: "", NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { out, err, code };
}

describe.concurrent("atrad status exit codes and what it shows", () => {
  test("a service in conflict: exit 4, the holder named", () => scoped(async (cleanup) => {
    const port = freePort();
    const stranger = Bun.spawn([process.execPath, FOREIGN, String(port)], { stdout: "ignore", stderr: "ignore" });
    cleanup.push(() => stranger.kill("SIGKILL"));
    await waitFor("stranger listening", () => fetch(`http://127.0.0.1:${port}/`).then(() => true));
    const d: TestDaemon = await startTestDaemon(noDefaultServices("mlx") + ownedServiceToml("mlx", port, crypto.randomUUID()));
    cleanup.push(() => d.stop());
    await waitFor("conflict", () => d.supervisor!.status()[0]!.state === "conflict");
    const r = await status(d.url, d.home);
    expect(r.code).toBe(4);
    expect(r.out).toContain("conflict");
    expect(r.out).toContain(`pid ${stranger.pid}`);
  }), 30_000);

  test("a rejected reload shows in the table", () => scoped(async (cleanup) => {
    const home = mkdtempSync(join(tmpdir(), "atrad-status-"));
    const file = join(home, "config.toml");
    writeFileSync(file, noDefaultServices());
    const env = { ATRAD_HOME: home, HOME: home };
    const d = await startDaemon({ config: loadConfig({ env, file }), host: "127.0.0.1", port: 0, logger: silentLogger, load: () => loadConfig({ env, file }) });
    cleanup.push(() => d.stop());
    writeFileSync(file, `[server]\nport = "eighty"\n`);
    expect(d.reload().ok).toBe(false);
    const r = await status(d.url, home);
    expect(r.code).toBe(0);
    expect(r.out).toContain("config reload rejected");
    expect(r.out).toContain("server.port");
  }), 30_000);

  test("a daemon that accepts connections but never answers is 'not answering' (exit 5), not 'not running'", () => scoped(async (cleanup) => {
    const hung = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    cleanup.push(() => hung.stop(true));
    const r = await status(`http://127.0.0.1:${hung.port}`, undefined, "--timeout", "0.3");
    expect(r.code).toBe(5);
    expect(r.out).toContain("not answering");
    expect(r.out).not.toContain("not running");
    expect(r.err).toContain("did not answer within 0.3 s");
  }), 30_000);
});
