/**
 * Router ← supervisor: a target whose provider's service is down is skipped at once (no connect
 * attempt), and the fallback record says why. An external service's `restart` command runs when
 * it stays down; atrad never kills what it didn't start.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../src/log.ts";
import { Supervisor } from "../../src/supervisor/supervisor.ts";
import { startOllamaStandIn } from "../standins/ollama.ts";
import { providerToml } from "../support/daemon.ts";
import { atradInFrontOf } from "../support/gateway.ts";
import { freePort, waitFor } from "../support/procs.ts";
import { noDefaultServices } from "../support/services.ts";

const deadPort = freePort();
const { backup, atrad } = await atradInFrontOf({ backup: startOllamaStandIn() }, ({ backup }) => `
${noDefaultServices()}
${providerToml("local", "anthropic", `http://127.0.0.1:${deadPort}`)}
${providerToml("backup", "anthropic", backup.url)}
[services.local]
health = "http://127.0.0.1:${deadPort}/api/version"
provider = "local"
interval_s = 0.1
[routes]
default = ["local/qwen2.5-coder:32b", "backup/qwen2.5-coder:32b"]
`);
await waitFor("local down", () => atrad.supervisor!.status()[0]!.state === "down");

describe("router uses the supervisor's health", () => {
  test("a down service's provider is skipped without a connect, with the reason recorded", async () => {
    const res = await fetch(`${atrad.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "claude-sonnet-5", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200);
    const rec = atrad.records.at(-1)!;
    expect(rec.target).toBe("backup/qwen2.5-coder:32b");
    expect(rec.fallbacks).toHaveLength(1);
    expect(rec.fallbacks[0]!.target).toBe("local/qwen2.5-coder:32b");
    expect(rec.fallbacks[0]!.reason).toMatch(/^service local is down \(connection refused\)$/);
  });

  test("status shows the provider down because of its service", async () => {
    const doc = (await (await fetch(`${atrad.url}/atrad/status`)).json()) as { providers: Array<{ name: string; state: string; error?: string }> };
    expect(doc.providers.find((p) => p.name === "local")).toMatchObject({ state: "down", error: expect.stringContaining("service local is down") });
  });
});

describe("external services", () => {
  test("the restart command runs when the service stays down, under the budget", async () => {
    const home = mkdtempSync(join(tmpdir(), "atrad-ext-"));
    const marker = join(home, "restarted");
    const port = freePort();
    const sup = new Supervisor(
      [{ name: "victoria", port, health: `http://127.0.0.1:${port}/health`, restart: ["sh", "-c", `echo x >> ${marker}`], interval_s: 0.05, timeout_s: 0.5 }],
      [],
      { home, logger: silentLogger, timing: { failThreshold: 2, backoffBaseMs: 20, backoffMaxMs: 40, startTimeoutMs: 100, budget: 2 } },
    );
    await sup.start();
    try {
      await waitFor("restart command ran", () => existsSync(marker));
      await waitFor("failed after the budget", () => sup.status()[0]!.state === "failed");
      expect(sup.status()[0]).toMatchObject({ owned: false, pid: null, restarts: 2 });
      expect(sup.status()[0]!.last_error).toMatch(/gave up after 2 restarts/);
    } finally {
      await sup.stop();
    }
  });
});
