/**
 * Session affinity: the requests of one session (and of one agent in it) go back to the host
 * of a multi-host provider that holds its prompt in cache, and on llama.cpp-style servers to
 * the same slot (`id_slot`, `cache_prompt: true`), so interleaved sessions and a subagent do
 * not evict one another. The stand-ins model each server's prefix cache.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startOpenAIStandIn, type OpenAIStandIn } from "../standins/mlx-lm.ts";
import { PrefixCache } from "../standins/prefix-cache.ts";
import { startTestDaemon, type TestDaemon } from "../support/daemon.ts";
import { post } from "../support/sse.ts";

const hostCaches = [new PrefixCache(1), new PrefixCache(1)];
const slotCache = new PrefixCache(2);
let hosts: OpenAIStandIn[];
let llama: OpenAIStandIn;
let atrad: TestDaemon;

beforeAll(async () => {
  hosts = hostCaches.map((cache) => startOpenAIStandIn({ flavor: "piecewise", models: ["qwen"], cache: { cache, report: "cached_tokens" } }));
  llama = startOpenAIStandIn({ flavor: "piecewise", models: ["qwen"], cache: { cache: slotCache, report: "timings" } });
  for (const s of [...hosts, llama]) s.reply = (body) => ({ items: [{ text: `answer ${body.messages.length}` }] });
  atrad = await startTestDaemon(`
[providers.pair]
kind = "openai"
urls = ["${hosts[0]!.url}", "${hosts[1]!.url}"]
[providers.llama]
kind = "openai"
url = "${llama.url}"
slots = 2
`);
});
afterAll(async () => {
  await atrad.stop();
  await Promise.all([...hosts, llama].map((s) => s.stop()));
});

const SYSTEM = "You are a coding agent. Follow the rules. ".repeat(100);

/** One more turn of a conversation: the whole history, then the new question. */
class Conversation {
  private readonly messages: Array<{ role: "user" | "assistant"; content: string }> = [];
  constructor(
    private readonly model: string,
    private readonly headers: Record<string, string>,
  ) {}
  async turn(question: string) {
    this.messages.push({ role: "user", content: question });
    const res = await post(`${atrad.url}/v1/messages`, { model: this.model, max_tokens: 50, system: SYSTEM, messages: this.messages }, this.headers);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { content: Array<{ text: string }> };
    this.messages.push({ role: "assistant", content: body.content[0]!.text });
  }
}

const question = (who: string, n: number) => `${who} asks question ${n}: ${`please look at the file ${who}-${n}.ts and explain it. `.repeat(3)}`;

describe("one session, one host", () => {
  test("two interleaved sessions each stay on a host of their own, and keep their prefix", async () => {
    const a = new Conversation("pair/qwen", { "x-claude-code-session-id": "session-a" });
    const b = new Conversation("pair/qwen", { "x-claude-code-session-id": "session-b" });
    for (let n = 0; n < 4; n++) {
      await a.turn(question("a", n));
      await b.turn(question("b", n));
    }
    const byHost = hosts.map((h) => h.received.map((r) => (JSON.stringify(r.body).includes("a asks") ? "a" : "b")));
    // Each host served one session only: they did not take turns evicting each other.
    expect(byHost.map((list) => new Set(list).size)).toEqual([1, 1]);
    expect(new Set(byHost.map((list) => list[0])).size).toBe(2);
    for (const cache of hostCaches) expect(cache.share()).toBeGreaterThan(0.95);
  });
});

describe("one session (one agent), one slot", () => {
  test("a session and its subagent, interleaved, each keep a llama.cpp slot with cache_prompt", async () => {
    const main = new Conversation("llama/qwen", { "x-claude-code-session-id": "session-c" });
    const agent = new Conversation("llama/qwen", { "x-claude-code-session-id": "session-c", "x-claude-code-agent-id": "agent-1", "x-claude-code-parent-agent-id": "main" });
    for (let n = 0; n < 4; n++) {
      await main.turn(question("main", n));
      await agent.turn(question("agent", n));
    }
    const sent = llama.received.map((r) => ({ who: JSON.stringify(r.body).includes("main asks") ? "main" : "agent", slot: r.body.id_slot, cache: r.body.cache_prompt }));
    const slotOf = (who: string) => new Set(sent.filter((s) => s.who === who).map((s) => s.slot));
    expect(slotOf("main").size).toBe(1);
    expect(slotOf("agent").size).toBe(1);
    expect([...slotOf("main")][0]).not.toBe([...slotOf("agent")][0]);
    expect(sent.every((s) => s.cache === true)).toBe(true);
    expect(slotCache.share()).toBeGreaterThan(0.95);
  });

  test("a provider without slots sends neither id_slot nor cache_prompt (other servers may refuse them)", () => {
    for (const h of hosts) for (const r of h.received) expect(r.body.id_slot ?? r.body.cache_prompt).toBeUndefined();
  });
});
