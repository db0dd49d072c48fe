/**
 * Warm and ready: `POST /atrad/warmup` (what `atrad launch claude` calls) has the main model
 * prefill the fixed start of a session — the last main session's system prompt and tools — so
 * a new session's first turn finds it in the server's cache; the ollama kind's `keep_alive`
 * keeps the model (and its cache) loaded.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startOpenAIStandIn, type OpenAIStandIn } from "../standins/mlx-lm.ts";
import { startOllamaChatStandIn } from "../standins/ollama-chat.ts";
import { PrefixCache } from "../standins/prefix-cache.ts";
import { startTestDaemon, type TestDaemon } from "../support/daemon.ts";
import { post } from "../support/sse.ts";

const cache = new PrefixCache(1);
let server: OpenAIStandIn;
let atrad: TestDaemon;

const SYSTEM = "You are Claude Code, a coding agent. Follow these rules carefully. ".repeat(80);
const TOOLS = [{ name: "Read", description: "Read a file from the local filesystem. ".repeat(30), input_schema: { type: "object", properties: { file_path: { type: "string" } } } }];

beforeAll(async () => {
  server = startOpenAIStandIn({ flavor: "piecewise", models: ["qwen"], cache: { cache, report: "cached_tokens" } });
  server.reply = () => ({ items: [{ text: "OK" }] });
  atrad = await startTestDaemon(`[providers.local]\nkind = "openai"\nurl = "${server.url}"\n[routes]\ndefault = ["local/qwen"]\n`);
});
afterAll(async () => {
  await atrad.stop();
  await server.stop();
});

async function send(body: object, headers: Record<string, string> = {}) {
  const res = await post(`${atrad.url}/v1/messages`, { model: "claude-opus-4-5", max_tokens: 20, ...body }, headers);
  expect(res.status).toBe(200);
  await res.text();
  return cache.figures.at(-1)!;
}
const firstTurn = (session: string) => send({ system: SYSTEM, tools: TOOLS, messages: [{ role: "user", content: `question of ${session}` }] }, { "x-claude-code-session-id": session, "x-claude-code-request-class": "main" });
/** Something else takes the server's only slot (a title, another program). */
const evict = () => send({ system: "Write a five-word title.", messages: [{ role: "user", content: "title please" }] }, { "x-claude-code-request-class": "auxiliary" });
const warmup = async () => (await fetch(`${atrad.url}/atrad/warmup?model=opus`, { method: "POST" })).json();

describe("warm-up", () => {
  test("nothing to warm before a session has run: said, not guessed", async () => {
    expect(await warmup()).toEqual({ warmed: false, target: "local/qwen", reason: "no session has run on it since atrad started" });
  });

  test("after a warm-up, a new session's first turn finds its system prompt and tools cached", async () => {
    await firstTurn("a");
    await evict();
    // Without a warm-up the next session starts cold.
    const cold = await firstTurn("b");
    expect(cold.cached / cold.prompt).toBeLessThan(0.1);
    await evict();
    expect(await warmup()).toEqual({ warmed: true, target: "local/qwen" });
    expect(server.received.at(-1)!.body.messages.at(-1).content).toBe("Reply with OK.");
    expect(server.received.at(-1)!.body.max_tokens).toBe(1);
    const warm = await firstTurn("c");
    expect(warm.cached / warm.prompt).toBeGreaterThan(0.95);
  });
});

test("ollama kind: keep_alive reaches Ollama", async () => {
  const chat = startOllamaChatStandIn({ models: ["m"] });
  const d = await startTestDaemon(`[providers.o]\nkind = "ollama"\nurl = "${chat.url}"\nkeep_alive = "30m"\n`);
  try {
    const res = await post(`${d.url}/v1/messages`, { model: "o/m", max_tokens: 5, messages: [{ role: "user", content: "hi" }] });
    await res.text();
    expect(chat.received.at(-1).keep_alive).toBe("30m");
  } finally {
    await d.stop();
    await chat.stop();
  }
});
