/**
 * Cache figures end to end: stand-ins that model a server's prefix cache report it as the real
 * servers do (vLLM/LM Studio `cached_tokens`, llama.cpp `timings`, Ollama `prompt_eval_count`,
 * Ollama's native `input_tokens`), and atrad tells the official SDK in Anthropic's terms —
 * `cache_read_input_tokens` apart from `input_tokens` — and the request log, `/metrics`, the
 * status page's records and the statusline say the same.
 */
import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../src/cli/index.ts";
import { startOpenAIStandIn } from "../standins/mlx-lm.ts";
import { startOllamaChatStandIn } from "../standins/ollama-chat.ts";
import { startOllamaStandIn } from "../standins/ollama.ts";
import { PrefixCache } from "../standins/prefix-cache.ts";
import { providerToml } from "../support/daemon.ts";
import { atradInFrontOf, withAtradInFrontOf } from "../support/gateway.ts";
import { waitFor } from "../support/procs.ts";

const caches = { vllm: new PrefixCache(), llama: new PrefixCache(), ollama: new PrefixCache(), native: new PrefixCache() };

const Read = { name: "Read", description: "Read a file from the local filesystem. ".repeat(40), input_schema: { type: "object" as const, properties: { file_path: { type: "string" } }, required: ["file_path"] } };
const SYSTEM = "You are Claude Code, Anthropic's official CLI for Claude. ".repeat(60);

const standins = {
  vllm: startOpenAIStandIn({ flavor: "piecewise", models: ["qwen"], cache: { cache: caches.vllm, report: "cached_tokens" } }),
  llama: startOpenAIStandIn({ flavor: "piecewise", models: ["qwen"], cache: { cache: caches.llama, report: "timings" } }),
  ollama: startOllamaChatStandIn({ models: ["qwen"], cache: caches.ollama }),
  native: startOllamaStandIn({ models: ["qwen"], cache: caches.native }),
};
const { vllm, llama, ollama, native, atrad, client } = await atradInFrontOf(standins, ({ vllm, llama, ollama, native }) => `
${providerToml("vllm", "openai", vllm.url)}
${providerToml("llama", "openai", llama.url)}
${providerToml("ollama", "ollama", ollama.url)}
${providerToml("native", "anthropic", native.url)}
`);
for (const s of [vllm, llama]) s.reply = (body) => (body.messages.some((m: any) => m.role === "tool") ? { items: [{ text: "The file says hello." }] } : { items: [{ tool: { id: "call_1", name: "Read", arguments: '{"file_path":"/a.txt"}' } }] });
ollama.reply = (body) => (body.messages.some((m: any) => m.role === "tool") ? { items: [{ text: "The file says hello." }] } : { items: [{ tool: { name: "Read", arguments: { file_path: "/a.txt" } } }] });
native.reply = (body) =>
  body.messages.some((m: any) => Array.isArray(m.content) && m.content.some((b: any) => b.type === "tool_result"))
    ? { items: [{ text: "The file says hello." }] }
    : { items: [{ tool: { id: "toolu_1", name: "Read", input: { file_path: "/a.txt" } } }] };

/** Two turns of a session: a tool call, then its result (the second prompt extends the first). */
async function session(model: string, stream: boolean, sessionId: string) {
  const base = { model, max_tokens: 100, system: SYSTEM, tools: [Read] };
  const opts = { headers: { "x-claude-code-session-id": sessionId } };
  const user = { role: "user" as const, content: "What does /a.txt say?" };
  const call = async (messages: Anthropic.MessageParam[]) => (stream ? client.messages.stream({ ...base, messages }, opts).finalMessage() : client.messages.create({ ...base, messages }, opts));
  const first = await call([user]);
  const tool = first.content.find((b) => b.type === "tool_use")!;
  const second = await call([user, { role: "assistant", content: first.content }, { role: "user", content: [{ type: "tool_result", tool_use_id: tool.id, content: "hello" }] }]);
  return { first, second };
}

const kinds = [
  { name: "openai kind, vLLM/LM Studio cached_tokens", provider: "vllm", exact: true },
  { name: "openai kind, llama.cpp timings", provider: "llama", exact: true },
  { name: "ollama kind, prompt_eval_count", provider: "ollama", exact: false },
  { name: "anthropic kind, Ollama's native input_tokens", provider: "native", exact: false },
] as const;

describe("cache_read_input_tokens reaches the official SDK", () => {
  for (const k of kinds) {
    for (const stream of [false, true]) {
      test(`${k.name}, ${stream ? "streaming" : "non-streaming"}`, async () => {
        const cache = caches[k.provider];
        const from = cache.figures.length;
        const { second } = await session(`${k.provider}/qwen`, stream, `s-${k.provider}-${stream}`);
        const figure = cache.figures.at(-1)!;
        expect(cache.figures.length).toBe(from + 2);
        // The second prompt extends the first: most of it came from the slot's cache.
        expect(figure.cached / figure.prompt).toBeGreaterThan(0.8);
        // input_tokens is what the server evaluated, never the whole prompt again.
        expect(second.usage.input_tokens).toBe(figure.evaluated);
        if (k.exact) expect(second.usage.cache_read_input_tokens).toBe(figure.cached);
        // Ollama says only what it evaluated: the cached part is atrad's count of the prompt less that.
        else {
          const ratio = second.usage.cache_read_input_tokens! / figure.cached;
          expect(ratio).toBeGreaterThan(0.7);
          expect(ratio).toBeLessThan(1.3);
        }
      });
    }
  }
});

test("a server that says nothing about its cache: no cache_read_input_tokens is invented", async () => {
  const plain = startOpenAIStandIn({ flavor: "piecewise", models: ["m"] });
  plain.reply = () => ({ items: [{ text: "hi" }], usage: { prompt: 50, completion: 2 } });
  await withAtradInFrontOf({ plain }, ({ plain }) => providerToml("plain", "openai", plain.url), async ({ atrad, client }) => {
    const m = await client.messages.create({ model: "plain/m", max_tokens: 5, messages: [{ role: "user", content: "hi" }] });
    expect(m.usage.input_tokens).toBe(50);
    expect(m.usage.cache_read_input_tokens ?? null).toBeNull();
    expect(atrad.records.at(-1)!.cache_read_tokens).toBeNull();
  });
});

describe("the cache share in atrad's own reports", () => {
  test("request records, /metrics, the request log, the status page's records and the statusline", async () => {
    await session("vllm/qwen", true, "s-report");
    const figure = caches.vllm.figures.at(-1)!;
    const record = atrad.records.filter((r) => r.session_id === "s-report").at(-1)!;
    expect(record).toMatchObject({ cache_read_tokens: figure.cached, input_tokens: figure.evaluated });

    const metrics = await (await fetch(`${atrad.url}/metrics`)).text();
    const cacheLine = metrics.split("\n").find((l) => l.startsWith('atrad_tokens_total{provider="vllm",direction="cache_read"}'));
    expect(Number(cacheLine?.split(" ").at(-1))).toBeGreaterThanOrEqual(figure.cached);

    const state = (await (await fetch(`${atrad.url}/atrad/ui/state`)).json()) as { requests: Array<{ session_id: string; cache_read_tokens: number }> };
    expect(state.requests.find((r) => r.session_id === "s-report")?.cache_read_tokens).toBe(figure.cached);

    let out = "";
    const io = { out: (t: string) => void (out += t), err: () => {}, env: { ATRAD_HOME: "/nonexistent" }, isTTY: false, stdin: async () => JSON.stringify({ session_id: "s-report" }) };
    expect(await runCli(["statusline", "--url", atrad.url, "--plain"], io)).toBe(0);
    const share = Math.floor((100 * figure.cached) / figure.prompt);
    expect(out).toContain(`cache ${share} %`);

    // The request log is written in batches (every 200 ms): wait for the session's last line.
    const logged = () => readFileSync(join(atrad.home, "logs", "requests.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((l) => l.request_id === record.request_id)[0];
    expect(await waitFor("the request in requests.jsonl", logged, 3000)).toMatchObject({ session_id: "s-report", cache_read_tokens: figure.cached, input_tokens: figure.evaluated });
  });
});
