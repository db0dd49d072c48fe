/**
 * Failures a client can still act on, through the official SDK over real sockets:
 * - an upstream that is slow and then fails with 529 reaches the SDK as a 529 (an
 *   OverloadedError it retries), because a streaming 200 is committed only once the upstream
 *   produced an event — not after the first ping interval, as before;
 * - when every backend of a route is down or refuses connections, the answer comes at once with
 *   `x-should-retry: false` and says which backends are down and how to start them.
 * The windows are made small with config (no timing asserts): pings every 50 ms, a commit
 * window of 30 s, an upstream that answers after 150 ms (three ping intervals).
 */
import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { startCounting } from "../standins/counting.ts";
import { freePort } from "../support/binary.ts";
import { providerToml } from "../support/daemon.ts";
import { atradInFrontOf } from "../support/gateway.ts";
import { noDefaultServices } from "../support/services.ts";

const downPort = freePort();
const refusedPort = freePort();
// One slow upstream per case, so the cases (each waiting out the SDK's retry backoff) run side by side.
const { streaming, nonStreaming, late, atrad } = await atradInFrontOf(
  { streaming: startCounting("streaming"), nonStreaming: startCounting("nonStreaming"), late: startCounting("late") },
  ({ streaming, nonStreaming, late }) => `
[server]
ping_interval_s = 0.05
stream_commit_s = 30
${providerToml("streaming", "anthropic", streaming.url, 'models = ["m"]')}
${providerToml("nonStreaming", "anthropic", nonStreaming.url, 'models = ["m"]')}
${providerToml("late", "anthropic", late.url, 'models = ["m"]')}
${providerToml("ollama", "anthropic", `http://127.0.0.1:${downPort}`, 'models = ["qwen3:8b"]')}
${providerToml("mlx", "openai", `http://127.0.0.1:${refusedPort}`, 'models = ["m"]')}
[routes]
default = ["late/m"]
aliases = { local = ["ollama/qwen3:8b", "mlx/m"] }
${noDefaultServices()}
[services.ol]
health = "http://127.0.0.1:${downPort}/api/version"
provider = "ollama"
interval_s = 0.1
timeout_s = 0.5
`,
);
// The SDK with its own retries on: a 529 is retried (the upstream sees each try), x-should-retry: false is not.
// One retry is enough to show it: each costs the SDK's own 0.5 s+ backoff (retry-after 0 does not shorten it).
const client = new Anthropic({ baseURL: atrad.url, apiKey: "unused", maxRetries: 1 });

const ask = { model: "late/m", max_tokens: 16, messages: [{ role: "user" as const, content: "hi" }] };

describe.concurrent("a slow upstream that then fails keeps its status", () => {
  test.each([
    ["streaming", true],
    ["non-streaming", false],
  ])("529 after a silence longer than the ping interval → OverloadedError, retried by the SDK (%s)", async (_name, stream) => {
    const [up, model] = stream ? [streaming, "streaming/m"] : [nonStreaming, "nonStreaming/m"];
    up.mode = { delayMs: 150, status: 529, body: JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "upstream is overloaded" } }) };
    const err = await (stream ? client.messages.create({ ...ask, model, stream: true }).then(async (s) => {
      for await (const _ of s);
    }) : client.messages.create({ ...ask, model })).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.OverloadedError);
    expect((err as InstanceType<typeof Anthropic.OverloadedError>).status).toBe(529);
    // The first try and the SDK's retry both reached the upstream.
    expect(up.hits).toBe(2);
  });

  test("an upstream that answers after the same silence streams normally", async () => {
    late.mode = { delayMs: 150, text: "late but fine" };
    const stream = client.messages.stream(ask);
    const message = await stream.finalMessage();
    expect(message.content.map((b) => (b.type === "text" ? b.text : b.type))).toEqual(["late but fine"]);
  });
});

describe("every backend down or refusing: fail fast", () => {
  test.each([
    ["streaming", true],
    ["non-streaming", false],
  ])("one request, 503 with x-should-retry: false, naming each backend and its fix (%s)", async (_name, stream) => {
    // The supervisor has noticed the service is down (its probes are refused).
    for (let i = 0; i < 100 && !atrad.router.health.downReason("ollama"); i++) await Bun.sleep(50);
    expect(atrad.router.health.downReason("ollama")).toBeDefined();
    const before = atrad.records.length;
    const err = await (stream ? client.messages.create({ ...ask, model: "local", stream: true }).then(async (s) => {
      for await (const _ of s);
    }) : client.messages.create({ ...ask, model: "local" })).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    const e = err as InstanceType<typeof Anthropic.InternalServerError>;
    expect(e.status).toBe(503);
    expect(e.headers?.get("x-should-retry")).toBe("false");
    const message = (e.error as { error: { message: string } }).error.message;
    expect(message).toContain("ollama/qwen3:8b: service ol is down");
    expect(message).toContain(process.platform === "darwin" ? "brew services start ollama" : "systemctl start ollama");
    expect(message).toContain(`mlx/m`);
    expect(message).toContain("connection refused");
    expect(message).toContain(`start the server at http://127.0.0.1:${refusedPort}`);
    expect(message).toContain("atrad status");
    // The SDK did not retry: atrad saw exactly one request.
    expect(atrad.records.length - before).toBe(1);
  });
});
