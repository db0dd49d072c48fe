/**
 * SIGTERM with non-streaming requests in flight, against `atrad serve` as a real process: the
 * ones that finish within server.shutdown_grace_s get their complete answers; the ones still
 * running when the grace ends get an error answer telling the client to retry — never a
 * closed socket with nothing on it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFaulty, type Faulty } from "../standins/faulty.ts";
import { freePort, ROOT, waitForHealth } from "../support/binary.ts";
import { noDefaultServices } from "../support/services.ts";
import { until } from "./support.ts";

let faulty: Faulty;
beforeAll(() => {
  faulty = startFaulty();
});
afterAll(async () => {
  await faulty?.stop();
});

type Answer = { status: number; body: any } | { failed: string };

async function sigtermWithRequests(slowDelayMs: number, graceS: number): Promise<{ answers: Answer[]; code: number }> {
  faulty.slowDelayMs = slowDelayMs;
  const home = mkdtempSync(join(tmpdir(), "atrad-drain-"));
  const file = join(home, "config.toml");
  const port = freePort();
  writeFileSync(file, `[server]\nport = ${port}\nshutdown_grace_s = ${graceS}\n[providers.f]\nkind = "openai"\nurl = "${faulty.url}"\nmodels = ["slow"]\n[routes]\ndefault = ["f/slow"]\n${noDefaultServices()}`);
  const proc = Bun.spawn([process.execPath, join(ROOT, "src/main.ts"), "serve", "--config", file], { env: { ...process.env, ATRAD_HOME: home, HOME: home }, stdout: "ignore", stderr: "ignore" });
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitForHealth(url);
    const hitsBefore = faulty.hits.slow ?? 0;
    const answers = Array.from({ length: 5 }, () =>
      fetch(`${url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "f/slow", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }) }).then(
        async (r): Promise<Answer> => ({ status: r.status, body: await r.json() }),
        (e: Error): Answer => ({ failed: e.message }),
      ),
    );
    // All five are at the upstream before the signal.
    await until("five requests in flight", () => (faulty.hits.slow ?? 0) - hitsBefore >= 5);
    proc.kill("SIGTERM");
    return { answers: await Promise.all(answers), code: await proc.exited };
  } finally {
    proc.kill("SIGKILL");
  }
}

describe("SIGTERM with 5 non-streaming requests in flight", () => {
  test("answers that come within the grace are delivered complete", async () => {
    // The openai kind streams from the stand-in: 40 ticks × 10 ms each; the grace is 2 s.
    const { answers, code } = await sigtermWithRequests(10, 2);
    expect(answers).toHaveLength(5);
    for (const a of answers) {
      expect(a).toMatchObject({ status: 200, body: { type: "message", stop_reason: "end_turn" } });
      expect(JSON.stringify(a)).toContain("hello");
    }
    expect(code).toBe(0);
  }, 30_000);

  test("answers still pending when the grace ends are error answers to retry, not closed sockets", async () => {
    // 40 ticks × 1 s: far past the 0.3 s grace.
    const { answers, code } = await sigtermWithRequests(1000, 0.3);
    expect(answers).toHaveLength(5);
    for (const a of answers) {
      expect(a).toMatchObject({ status: 529, body: { type: "error", error: { type: "overloaded_error" } } });
      expect((a as { body: { error: { message: string } } }).body.error.message).toContain("shutting down");
    }
    expect(code).toBe(0);
  }, 30_000);
});
