/**
 * Fallback chains: each trigger moves to the next target before the first byte; after the
 * first byte nothing moves. Several hosts: a failing one cools down while the healthy one
 * serves everything, and comes back after the cooldown.
 */
import { describe, expect, test } from "bun:test";
import { startCounting } from "../standins/counting.ts";
import { startOllamaStandIn } from "../standins/ollama.ts";
import { NOWHERE, providerToml } from "../support/daemon.ts";
import { atradInFrontOf } from "../support/gateway.ts";
import { waitFor } from "../support/procs.ts";
import { post, readEvents } from "../support/sse.ts";

const standins = { primary: startCounting("primary"), stalled: startCounting("stalled"), backup: startCounting("backup"), hostA: startCounting("A"), hostB: startCounting("B"), ollama: startOllamaStandIn() };
const { primary, stalled, backup, hostA, hostB, ollama, atrad } = await atradInFrontOf(standins, ({ primary, stalled, backup, hostA, hostB, ollama }) => `
[providers.primary]
kind = "anthropic"
url = "${primary.url}"
[providers.stalled]
kind = "anthropic"
url = "${stalled.url}"
timeout_s = 0.25
[providers.backup]
kind = "anthropic"
url = "${backup.url}"
${providerToml("refused", "anthropic", NOWHERE)}
[providers.ollama]
kind = "anthropic"
url = "${ollama.url}"
[providers.pair]
kind = "anthropic"
urls = ["${hostA.url}", "${hostB.url}"]
max_fails = 2
cooldown_s = 0.4
[routes.aliases]
chain = ["primary/m", "backup/m"]
"stalled-chain" = ["stalled/m", "backup/m"]
"refused-chain" = ["refused/m", "backup/m"]
missing = ["ollama/not-installed:7b", "backup/m"]
midstream = ["ollama/qwen2.5-coder:32b", "backup/m"]
`);
const ask = (model: string, stream = false) => post(`${atrad.url}/v1/messages`, { model, max_tokens: 5, stream, messages: [{ role: "user", content: "q" }] });

describe("fallback triggers", () => {
  test.each([
    ["429", { status: 429 }],
    ["500", { status: 500 }],
    ["503", { status: 503 }],
    ["529", { status: 529 }],
  ])("Fallback_On%s", async (_name, mode) => {
    primary.mode = mode;
    const before = backup.hits;
    const res = await ask("chain");
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).content[0].text).toBe("served by backup");
    expect(res.headers.get("x-atrad-target")).toBe("backup/m");
    expect(res.headers.get("x-atrad-fallbacks")).toBe("primary/m");
    expect(backup.hits).toBe(before + 1);
    primary.mode = {};
  });

  test("Fallback_OnConnectionRefused", async () => {
    const res = await ask("refused-chain");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-atrad-fallbacks")).toBe("refused/m");
  });

  test("Fallback_OnModelNotFound", async () => {
    const res = await ask("missing");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-atrad-fallbacks")).toBe("ollama/not-installed:7b");
  });

  test("NoFallback_On400 (the request itself is wrong)", async () => {
    primary.mode = { status: 400, body: JSON.stringify({ type: "error", error: { type: "invalid_request_error", message: "bad field" } }) };
    const before = backup.hits;
    const res = await ask("chain");
    expect(res.status).toBe(400);
    expect(backup.hits).toBe(before);
    primary.mode = {};
  });

  test("NoFallback_AfterFirstByte: a stream that dies mid-way ends with an error event", async () => {
    ollama.reply = () => ({ items: [{ text: "partial answer that breaks" }], failAfterEvents: 2 });
    const before = backup.hits;
    const events = await readEvents(await ask("midstream", true));
    expect(events.some((e) => e.event === "content_block_delta")).toBe(true);
    expect(events.at(-1)!.event).toBe("error");
    expect(backup.hits).toBe(before);
  });
});

// The two cases that wait on the clock (a timeout, a cooldown) run side by side: neither uses
// the other's upstreams, and neither counts what the other sends to the backup.
describe.concurrent("fallback after a timeout; several hosts per provider", () => {
  test("Fallback_OnTimeoutToFirstByte", async () => {
    let release!: () => void;
    stalled.mode = { hold: new Promise<void>((r) => (release = r)) };
    const before = backup.hits;
    try {
      const res = await ask("stalled-chain");
      expect(res.status).toBe(200);
      expect(((await res.json()) as any).content[0].text).toBe("served by backup");
      expect(res.headers.get("x-atrad-target")).toBe("backup/m");
      expect(res.headers.get("x-atrad-fallbacks")).toBe("stalled/m");
      expect(backup.hits).toBe(before + 1);
    } finally {
      release();
    }
  });

  test("Cooldown_ThenRecovery: the healthy host serves everything meanwhile", async () => {
    hostA.mode = { status: 500 };
    const served: string[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await ask("pair/m");
      expect(res.status).toBe(200);
      served.push(((await res.json()) as any).content[0].text);
    }
    expect(new Set(served)).toEqual(new Set(["served by B"]));
    // A was tried until its circuit opened (max_fails = 2), then left alone.
    expect(hostA.hits).toBe(2);
    expect(atrad.router.pool("pair")!.state(atrad.router.pool("pair")!.hosts[0]!)).toBe("cooldown");

    hostA.mode = {};
    const pool = atrad.router.pool("pair")!;
    await waitFor("A's cooldown over", () => pool.state(pool.hosts[0]!) === "half-open");
    // Half-open: the next requests include one trial on A, which succeeds and closes the circuit.
    const after: string[] = [];
    for (let i = 0; i < 4; i++) after.push(((await (await ask("pair/m")).json()) as any).content[0].text);
    expect(after).toContain("served by A");
    expect(atrad.router.pool("pair")!.state(atrad.router.pool("pair")!.hosts[0]!)).toBe("up");
  });
});
