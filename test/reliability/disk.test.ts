/**
 * Degraded disks are visible, not fatal. The tests run as root, where a read-only mode stops
 * nothing; so a full disk is /dev/full (every write is ENOSPC) behind the request log's path,
 * and an unwritable ATRAD_HOME is a path under a regular file (ENOTDIR).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfigText, resolveConfig } from "../../src/config/load.ts";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.ts";
import { createLogger } from "../../src/log.ts";
import { statusDocumentError } from "../../src/observe/status-document.ts";
import { requestLogPath } from "../../src/supervisor/logfile.ts";
import { startCounting, type Counting } from "../standins/counting.ts";
import { freePort, ROOT, waitForHealth } from "../support/binary.ts";
import { noDefaultServices, ownedServiceToml } from "../support/services.ts";
import { until } from "./support.ts";

let up: Counting;
beforeAll(() => {
  up = startCounting("up");
});
afterAll(async () => {
  await up?.stop();
});

const toml = () => `[providers.up]\nkind = "anthropic"\nurl = "${up.url}"\nmodels = ["m"]\n[routes]\ndefault = ["up/m"]\n${noDefaultServices()}`;
const ask = (url: string) =>
  fetch(`${url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "up/m", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }) }).then((r) => r.status);

describe("a full disk under the request log", () => {
  let d: Daemon;
  const lines: string[] = [];
  let path: string;
  beforeAll(async () => {
    const home = mkdtempSync(join(tmpdir(), "atrad-disk-"));
    path = requestLogPath(home);
    mkdirSync(join(home, "logs"), { recursive: true });
    symlinkSync("/dev/full", path);
    const config = resolveConfig(parseConfigText(toml()), { env: { ATRAD_HOME: home, HOME: home }, file: join(home, "config.toml") });
    d = await startDaemon({ config, host: "127.0.0.1", port: 0, supervisor: false, requestLogRetryMs: 100, logger: createLogger("info", (l) => lines.push(l)) });
  });
  afterAll(() => d?.stop());

  test("requests are still answered; the failure is in status and logged once; records wait, then land", async () => {
    for (let i = 0; i < 3; i++) expect(await ask(d.url)).toBe(200);
    const failing = await until("status to show the failing request log", async () => {
      const s: any = await (await fetch(`${d.url}/atrad/status`)).json();
      return s.disk?.request_log.error ? s : undefined;
    });
    expect(statusDocumentError(failing)).toBeUndefined();
    expect(failing.disk.request_log).toMatchObject({ path, error: expect.stringMatching(/ENOSPC|no space/i), since: expect.any(String), dropped: 0 });
    expect(failing.disk.home_error).toBeNull();
    // More requests while the disk is full: still answered, still one report.
    for (let i = 0; i < 3; i++) expect(await ask(d.url)).toBe(200);
    // Several retry intervals pass while the disk is still full: none of them reports again.
    await Bun.sleep(400);
    expect(lines.filter((l) => l.includes("request log:") && l.includes("warn"))).toHaveLength(1);
    expect(d.requestLog.health().pending).toBe(6);
    // Space again: the retry writes all six records and says so once.
    rmSync(path);
    await until("the retry to write the waiting records", () => d.requestLog.health().error === null, 15_000);
    expect(readFileSync(path, "utf8").trim().split("\n")).toHaveLength(6);
    expect(lines.filter((l) => l.includes("request log:") && l.includes("writable again"))).toHaveLength(1);
  }, 30_000);
});

describe("an unwritable ATRAD_HOME", () => {
  test("atrad serve warns on stderr and serves; status names the problem", async () => {
    const dir = mkdtempSync(join(tmpdir(), "atrad-disk-"));
    writeFileSync(join(dir, "a-file"), "");
    const home = join(dir, "a-file", "home"); // ENOTDIR for every write under it
    const port = freePort();
    const file = join(dir, "config.toml");
    // An owned service too: its log file cannot be opened either, and it must still start.
    const tag = crypto.randomUUID();
    writeFileSync(file, `[server]\nport = ${port}\n${toml().replace(noDefaultServices(), noDefaultServices("mlx"))}${ownedServiceToml("mlx", freePort(), tag)}`);
    const proc = Bun.spawn([process.execPath, join(ROOT, "src/main.ts"), "serve", "--config", file], {
      env: { ...process.env, ATRAD_HOME: home, HOME: dir },
      stdout: "ignore",
      stderr: "pipe",
    });
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitForHealth(url);
      expect(await ask(url)).toBe(200);
      const s: any = await (await fetch(`${url}/atrad/status`)).json();
      expect(statusDocumentError(s)).toBeUndefined();
      expect(s.disk.home).toBe(home);
      expect(s.disk.home_error).toMatch(/ENOTDIR|not a directory/i);
      const mlx = await until("the owned service to come up", async () => {
        const st: any = await (await fetch(`${url}/atrad/status`)).json();
        return st.services.find((x: any) => x.name === "mlx" && x.state === "up");
      });
      expect(mlx.owned).toBe(true);
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      const stderr = await new Response(proc.stderr).text();
      expect(stderr).toContain(`ATRAD_HOME ${home} is not writable`);
      expect(stderr).toContain("listening on");
    } finally {
      proc.kill("SIGKILL");
    }
  }, 30_000);
});
