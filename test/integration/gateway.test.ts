/**
 * The gateway's contract over real sockets: the Claude Code fixture passes through intact,
 * every error leaves in Anthropic's envelope with the right status, streams are relayed as
 * they arrive, pinged while silent, guarded when the upstream dies, and aborted with the client.
 */
import { describe, expect, test } from "bun:test";
import fixture from "../fixtures/claude-code-2.1.330-request.json";
import { startOllamaStandIn } from "../standins/ollama.ts";
import { NOWHERE, providerToml } from "../support/daemon.ts";
import { atradInFrontOf } from "../support/gateway.ts";
import { post, readEvents } from "../support/sse.ts";

const simple = { model: "claude-opus-5-5", max_tokens: 50, messages: [{ role: "user", content: "hi" }] };
const { ollama, atrad } = await atradInFrontOf({ ollama: startOllamaStandIn() }, ({ ollama }) => `
[server]
ping_interval_s = 0.05
stream_commit_s = 0.2
max_body_mb = 1
allowed_hosts = ["atrad.lan"]
${providerToml("ollama", "anthropic", `http://localhost:${ollama.port}`)}
${providerToml("dead", "anthropic", NOWHERE)}
[routes]
default = ["ollama/qwen2.5-coder:32b"]
[routes.aliases]
"chain" = ["dead/x", "ollama/qwen2.5-coder:32b"]
"all-dead" = ["dead/x", "ollama/missing:1b"]
`);

describe("pass-through", () => {
  test("the real Claude Code request reaches the upstream with its beta header and every body field", async () => {
    ollama.reply = () => ({ items: [{ text: "hello" }] });
    const res = await fetch(`${atrad.url}${fixture.path}`, { method: "POST", headers: { ...fixture.headers, host: "atrad.lan" }, body: JSON.stringify(fixture.body) });
    expect(res.status).toBe(200);
    const events = await readEvents(res);
    expect(events.at(-1)!.event).toBe("message_stop");
    const got = ollama.received.at(-1)!;
    expect(got.headers["anthropic-beta"]).toBe(fixture.headers["anthropic-beta"]);
    expect(got.headers["anthropic-version"]).toBe("2023-06-01");
    // Client credentials stop at atrad; the upstream sees its own Host, not the client's.
    expect(got.headers.authorization).toBeUndefined();
    expect(got.headers.host).toBe(`localhost:${ollama.port}`);
    for (const key of Object.keys(fixture.body)) expect(got.body).toHaveProperty(key);
    expect(got.body.context_management).toEqual(fixture.body.context_management);
    expect(got.body.output_config).toEqual(fixture.body.output_config);
    expect(got.body.tools.find((t: any) => t.defer_loading)).toBeDefined();
    // Claude Code's mid-conversation system note travels as user text where it stood (Ollama's
    // template would move a system message to the front and lose the prefix cache).
    const [first, note] = fixture.body.messages as Array<{ role: string; content: Array<{ type: string; text: string }> }>;
    expect(got.body.messages).toEqual([{ role: "user", content: [...first!.content, { type: "text", text: `<system-reminder>\n${note!.content[0]!.text}\n</system-reminder>` }] }]);
    expect(got.body.model).toBe("qwen2.5-coder:32b");
    // The system array keeps its shape; Ollama glues its blocks together with no separator, so
    // each block after the first starts with a blank line.
    const blocks = (fixture.body.system as Array<{ text: string }>).map((b) => b.text);
    expect(got.body.system.length).toBe(blocks.length);
    expect(got.body.system.map((b: { text: string }) => b.text).join("")).toBe(blocks.join("\n\n"));
  });

  test("HEAD / and HEAD /api/hello answer 200 (Claude Code's start-up probes), /health is JSON", async () => {
    expect((await fetch(`${atrad.url}/`, { method: "HEAD" })).status).toBe(200);
    expect((await fetch(`${atrad.url}/api/hello`, { method: "HEAD" })).status).toBe(200);
    expect(await (await fetch(`${atrad.url}/health`)).json()).toMatchObject({ status: "ok" });
  });

  test("count_tokens counts system, messages and tools with a real tokenizer", async () => {
    const count = async (body: object) => ((await (await post(`${atrad.url}/v1/messages/count_tokens?beta=true`, body)).json()) as any).input_tokens as number;
    const base = await count({ model: "x", messages: [{ role: "user", content: "hello world" }] });
    const withSystem = await count({ model: "x", system: "You are a careful assistant.", messages: [{ role: "user", content: "hello world" }] });
    const withTools = await count({ model: "x", messages: [{ role: "user", content: "hello world" }], tools: [{ name: "Read", description: "Reads a file from disk", input_schema: { type: "object" } }] });
    expect(base).toBeGreaterThan(0);
    expect(withSystem).toBeGreaterThan(base);
    expect(withTools).toBeGreaterThan(base);
    expect(await count({ model: "x", messages: fixture.body.messages, system: fixture.body.system, tools: fixture.body.tools })).toBeGreaterThan(5000);
  });

  test("/v1/models lists routes, aliases and discovered provider/model ids in Anthropic's shape", async () => {
    const list: any = await (await fetch(`${atrad.url}/v1/models?limit=1000`)).json();
    const ids = list.data.map((m: any) => m.id);
    expect(ids).toContain("chain");
    expect(ids).toContain("ollama/qwen2.5-coder:32b");
    expect(ids).toContain("ollama/phi3.5:3.8b");
    expect(list.data[0]).toMatchObject({ type: "model", display_name: expect.any(String), created_at: expect.any(String) });
    expect(list).toMatchObject({ has_more: false, first_id: ids[0], last_id: ids.at(-1) });
    const one: any = await (await fetch(`${atrad.url}/v1/models/ollama/qwen2.5-coder:32b`)).json();
    expect(one.id).toBe("ollama/qwen2.5-coder:32b");
  });
});

describe("errors are Anthropic envelopes", () => {
  const envelope = async (res: Response, status: number, type: string) => {
    expect(res.status).toBe(status);
    const body: any = await res.json();
    const message = body?.error?.message;
    expect(typeof message).toBe("string");
    expect(body).toEqual({ type: "error", error: { type, message } });
    return message as string;
  };

  // Refusals that need only the app (bad JSON, schema, path, Host) are in-process, in src/gateway/app.test.ts.
  test("body above max_body_mb → 413", async () => {
    const big = { ...simple, messages: [{ role: "user", content: "x".repeat(1_200_000) }] };
    await envelope(await post(`${atrad.url}/v1/messages`, big), 413, "request_too_large");
  });
  test("no reachable target → 529 naming every target tried", async () => {
    const msg = await envelope(await post(`${atrad.url}/v1/messages`, { ...simple, model: "all-dead" }), 529, "overloaded_error");
    expect(msg).toContain("dead/x");
    expect(msg).toContain("ollama/missing:1b");
  });
  test("a failing first target falls back to the next, and the headers say so", async () => {
    ollama.reply = () => ({ items: [{ text: "served" }] });
    const res = await post(`${atrad.url}/v1/messages`, { ...simple, model: "chain" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-atrad-target")).toBe("ollama/qwen2.5-coder:32b");
    expect(res.headers.get("x-atrad-fallbacks")).toBe("dead/x");
  });
  test("an upstream Anthropic error is relayed unmodified", async () => {
    const raw = JSON.stringify({ type: "error", error: { type: "rate_limit_error", message: "slow down (upstream words)" }, request_id: "req_up" });
    ollama.reply = () => ({ items: [], status: 429, body: raw });
    const res = await post(`${atrad.url}/v1/messages`, simple);
    expect(res.status).toBe(429);
    expect(await res.text()).toBe(raw);
  });
});

describe("streams", () => {
  test("relayed as they arrive: the first event comes before the upstream has finished", async () => {
    ollama.reply = () => ({ items: [{ text: "a b c d e f g h" }], pieceDelayMs: 150 });
    const res = await post(`${atrad.url}/v1/messages`, { ...simple, stream: true });
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain("event: message_start");
    const before = ollama.received.at(-1)!;
    expect(before.aborted).toBe(false);
    await reader.cancel();
  });

  test("pings flow while the upstream is silent (Ollama sends none during prefill)", async () => {
    // The upstream stays silent until the client has seen two pings (with none, the test times out).
    let release!: () => void;
    ollama.reply = () => ({ items: [{ text: "late" }], silentUntil: new Promise<void>((r) => (release = r)) });
    const res = await post(`${atrad.url}/v1/messages`, { ...simple, stream: true });
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let seen = "";
    try {
      while ((seen.match(/^event: ping$/gm)?.length ?? 0) < 2) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before two pings: ${seen}`);
        seen += dec.decode(value, { stream: true });
      }
    } finally {
      release();
    }
    expect(seen).not.toContain("message_start");
    for (let r = await reader.read(); !r.done; r = await reader.read()) seen += dec.decode(r.value, { stream: true });
    expect(seen).toContain("event: message_start");
    expect(seen.trimEnd().split("\n\n").at(-1)).toStartWith("event: message_stop");
  });

  test("an upstream stream that ends without message_stop becomes an error event", async () => {
    ollama.reply = () => ({ items: [{ text: "one two three four five six" }], failAfterEvents: 3 });
    const events = await readEvents(await post(`${atrad.url}/v1/messages`, { ...simple, stream: true }));
    expect(events.some((e) => e.event === "message_stop")).toBe(false);
    expect(events.at(-1)).toMatchObject({ event: "error", data: { type: "error", error: { type: "api_error" } } });
    expect(events.at(-1)!.data.error.message).toContain("before message_stop");
  });

  test("a client that disconnects aborts the upstream request", async () => {
    ollama.reply = () => ({ items: [{ text: "x ".repeat(200) }], pieceDelayMs: 20 });
    const ac = new AbortController();
    const res = await fetch(`${atrad.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...simple, stream: true }), signal: ac.signal });
    const reader = res.body!.getReader();
    await reader.read();
    const upstream = ollama.received.at(-1)!;
    ac.abort();
    for (let i = 0; i < 100 && !upstream.aborted; i++) await Bun.sleep(20);
    expect(upstream.aborted).toBe(true);
    for (let i = 0; i < 100 && !atrad.records.at(-1)?.client_aborted; i++) await Bun.sleep(20);
    expect(atrad.records.at(-1)!.client_aborted).toBe(true);
  });
});
