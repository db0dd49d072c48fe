/**
 * Status tells only what was observed: a provider's state comes from a service watching its
 * port, or from the router's last real request (or model-list query) — "unknown" with neither.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import type { StatusDocument } from "../../src/observe/status-document.ts";
import { startFaulty, type Faulty } from "../standins/faulty.ts";
import { startTestDaemon, type TestDaemon } from "../support/daemon.ts";
import { freePort, waitFor } from "../support/procs.ts";
import { noDefaultServices } from "../support/services.ts";

let faulty: Faulty | undefined;
let daemon: TestDaemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
});
afterAll(() => faulty?.stop());

const provider = async (d: TestDaemon, name: string) => ((await (await fetch(`${d.url}/atrad/status`)).json()) as StatusDocument).providers.find((p) => p.name === name)!;
const ask = (d: TestDaemon, model: string) =>
  fetch(`${d.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, max_tokens: 16, messages: [{ role: "user", content: "hi" }] }) });

describe("provider health from evidence", () => {
  test("no request and no watching service: unknown; a refused request: down; an answer: up", async () => {
    faulty ??= startFaulty();
    const dead = freePort();
    daemon = await startTestDaemon(
      `[providers.gone]\nkind = "openai"\nurl = "http://127.0.0.1:${dead}"\nmodels = ["m"]\n` +
        `[providers.live]\nkind = "openai"\nurl = "${faulty.url}"\nmodels = ["ok"]\n[routes]\ndefault = ["live/ok"]\n` +
        noDefaultServices(),
    );
    expect((await provider(daemon, "gone")).state).toBe("unknown");
    expect((await provider(daemon, "live")).state).toBe("unknown");
    await (await ask(daemon, "gone/m")).text();
    const gone = await provider(daemon, "gone");
    expect(gone.state).toBe("down");
    expect(gone.error).toBeTruthy();
    expect((await ask(daemon, "live/ok")).status).toBe(200);
    expect((await provider(daemon, "live")).state).toBe("up");
  });

  test("a service watching the provider's port decides, whatever the router last saw", async () => {
    const port = freePort();
    const server = Bun.serve({ hostname: "127.0.0.1", port, fetch: () => Response.json({ status: "healthy" }) });
    try {
      daemon = await startTestDaemon(
        `[providers.mlx]\nkind = "openai"\nurl = "http://127.0.0.1:${port}"\nmodels = ["m"]\n` +
          noDefaultServices("mlx") +
          `[services.mlx]\nhealth = "http://127.0.0.1:${port}/health"\nprovider = "mlx"\ninterval_s = 0.1\ntimeout_s = 0.5\n`,
      );
      const d = daemon;
      await waitFor("up by its service", async () => (await provider(d, "mlx")).state === "up");
      server.stop(true);
      const p = await waitFor("down by its service", async () => {
        const x = await provider(d, "mlx");
        return x.state === "down" && x;
      });
      expect(p.error).toMatch(/service mlx is down/);
    } finally {
      server.stop(true);
    }
  });
});
