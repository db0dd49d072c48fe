/**
 * One real Claude Code session — Write, Read, Bash, Edit, a subagent, an answer, then a
 * `--continue` turn (test/support/session-script.ts) — through atrad to a stand-in of one kind
 * that models its server's prefix cache, with a recording proxy in front of atrad that keeps
 * what Claude Code sent. Used by the e2e test and by bench/cache-share.ts.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startOpenAIStandIn } from "../standins/mlx-lm.ts";
import { startOllamaChatStandIn } from "../standins/ollama-chat.ts";
import { startOllamaStandIn } from "../standins/ollama.ts";
import { fromAnthropic, fromOllamaChat, fromOpenAI, PrefixCache, renderChatml, renderOllama, type Prefill } from "../standins/prefix-cache.ts";
import { runClaude } from "./claude.ts";
import { startTestDaemon } from "./daemon.ts";
import { anthropicItems, chatItems, nextStep, promptOne, promptTwo } from "./session-script.ts";

/** Everything started for sessions so far; `stopAll` ends it. */
const stops: Array<() => Promise<void>> = [];
export async function stopAll() {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
}

/** What Claude Code sent, as it sent it: a recording proxy in front of atrad. */
export interface Captured {
  path: string;
  headers: Record<string, string>;
  body: any;
}

export function recordingProxy(target: string) {
  const captured: Captured[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const text = req.method === "GET" || req.method === "HEAD" ? undefined : await req.text();
      if (url.pathname === "/v1/messages" && text) captured.push({ path: url.pathname, headers: Object.fromEntries(req.headers), body: JSON.parse(text) });
      const headers = new Headers(req.headers);
      headers.delete("host");
      headers.delete("accept-encoding");
      return fetch(`${target}${url.pathname}${url.search}`, { method: req.method, headers, body: text, decompress: false } as RequestInit);
    },
  });
  stops.push(async () => server.stop(true));
  return { url: `http://127.0.0.1:${server.port}`, captured };
}

/** A kind, or atrad's prompt tools (the ollama kind with `tools = "prompt"`). */
export type Kind = "openai" | "ollama" | "anthropic" | "prompt";

/** The provider table atrad gets for a path to `url`. */
export function providerToml(kind: Kind, url: string): string {
  return kind === "prompt" ? `[providers.local]\nkind = "ollama"\nurl = "${url}"\ntools = "prompt"\n` : `[providers.local]\nkind = "${kind}"\nurl = "${url}"\n`;
}

/** A stand-in for the kind, scripted by the session script, with its prefix cache. */
export function standIn(kind: Kind, cwd: string, cache: PrefixCache): { url: string; prompts: () => string[] } {
  switch (kind) {
    case "openai": {
      const s = startOpenAIStandIn({ flavor: "piecewise", models: ["qwen"], cache: { cache, report: "cached_tokens" } });
      stops.push(() => s.stop());
      s.reply = (body) => {
        const step = nextStep(chatItems(body), cwd);
        return { items: ["text" in step ? { text: step.text } : { tool: { name: step.tool.name, arguments: JSON.stringify(step.tool.input) } }] };
      };
      return { url: s.url, prompts: () => s.received.map((r) => renderChatml(fromOpenAI(r.body).messages, fromOpenAI(r.body).tools)) };
    }
    case "ollama": {
      const s = startOllamaChatStandIn({ models: ["qwen"], cache });
      stops.push(() => s.stop());
      s.reply = (body) => {
        const step = nextStep(chatItems(body), cwd);
        return { items: ["text" in step ? { text: step.text } : { tool: { name: step.tool.name, arguments: step.tool.input } }] };
      };
      return { url: s.url, prompts: () => s.received.map((b) => renderOllama(fromOllamaChat(b).messages, fromOllamaChat(b).tools)) };
    }
    case "prompt": {
      // The model writes its calls as text, in the Hermes format prompt tools ask for.
      const s = startOllamaChatStandIn({ models: ["qwen"], cache });
      stops.push(() => s.stop());
      s.reply = (body) => {
        const step = nextStep(chatItems(body), cwd);
        return { items: [{ text: "text" in step ? step.text : `<tool_call>\n${JSON.stringify({ name: step.tool.name, arguments: step.tool.input })}\n</tool_call>` }] };
      };
      return { url: s.url, prompts: () => s.received.map((b) => renderOllama(fromOllamaChat(b).messages, fromOllamaChat(b).tools)) };
    }
    case "anthropic": {
      const s = startOllamaStandIn({ models: ["qwen"], cache });
      stops.push(() => s.stop());
      let n = 0;
      s.reply = (body) => {
        const step = nextStep(anthropicItems(body), cwd);
        return { items: ["text" in step ? { text: step.text } : { tool: { id: `toolu_${String(++n).padStart(4, "0")}`, name: step.tool.name, input: step.tool.input } }] };
      };
      return { url: s.url, prompts: () => s.received.filter((r) => r.body).map((r) => renderOllama(fromAnthropic(r.body).messages, fromAnthropic(r.body).tools)) };
    }
    default:
      return kind satisfies never;
  }
}

/** The text of every `system`-role message inside `messages` (Claude Code's mid-conversation notes). */
export function notes(body: any): string[] {
  return (body.messages ?? [])
    .filter((m: any) => m.role === "system")
    .flatMap((m: any) => (typeof m.content === "string" ? [m.content] : m.content.filter((b: any) => b.type === "text").map((b: any) => b.text)))
    .filter((t: string) => t.trim());
}

export interface SessionResult {
  kind: Kind;
  figures: Prefill[];
  captured: Captured[];
  prompts: string[];
  runs: Array<{ exitCode: number; result?: string; stderr: string }>;
  cwd: string;
}

export async function runSession(kind: Kind): Promise<SessionResult> {
  const cwd = mkdtempSync(join(tmpdir(), `atrad-session-${kind}-`));
  const home = mkdtempSync(join(tmpdir(), `atrad-session-home-`));
  const cache = new PrefixCache(2);
  const upstream = standIn(kind, cwd, cache);
  const atrad = await startTestDaemon(`${providerToml(kind, upstream.url)}[routes]\ndefault = ["local/qwen"]\n`);
  stops.push(() => atrad.stop());
  const proxy = recordingProxy(atrad.url);
  const env = { CLAUDE_CODE_GATEWAY_HINT_HEADERS: "1", CLAUDE_CODE_ATTRIBUTION_HEADER: "0" };
  const args = ["--allowedTools", "Write,Read,Bash,Edit,Agent"];
  const runs = [];
  for (const [prompt, extra] of [
    [promptOne(), []],
    [promptTwo(), ["--continue"]],
  ] as const) {
    const run = await runClaude({ baseUrl: proxy.url, cwd, home, prompt, args: [...extra, ...args], env, timeoutMs: 50_000 });
    runs.push({ exitCode: run.exitCode, result: run.result?.result, stderr: run.stderr.slice(0, 500) });
  }
  return { kind, figures: cache.figures, captured: proxy.captured, prompts: upstream.prompts(), runs, cwd };
}


/**
 * Send captured requests again, in order, to `url` (atrad, a peer, or a server itself) with
 * the headers that matter (session, agent, request class); each answer is read to its end.
 */
export async function replay(url: string, captured: readonly Captured[], model?: string): Promise<number[]> {
  const statuses: number[] = [];
  for (const c of captured) {
    const headers: Record<string, string> = { "content-type": "application/json", "anthropic-version": "2023-06-01", authorization: "Bearer x", "x-api-key": "x" };
    for (const [k, v] of Object.entries(c.headers)) if (k.startsWith("x-claude-code-") || k === "anthropic-beta") headers[k] = v;
    const res = await fetch(`${url}/v1/messages`, { method: "POST", headers, body: JSON.stringify(model ? { ...c.body, model } : c.body) });
    await res.text();
    statuses.push(res.status);
  }
  return statuses;
}
