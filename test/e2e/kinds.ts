/**
 * Every provider path at once, for the acceptance clients: one atrad daemon in front of one
 * stand-in per path — the anthropic kind (Ollama's /v1/messages), the openai kind in both
 * flavours (mlx_lm.server, whole tool calls; vLLM/LM Studio, piecewise arguments), the ollama
 * kind (/api/chat with native tools), the ollama kind with prompt tools (the ATRA MLX server,
 * which has no tools), and victoria.
 *
 * A test scripts one "model" for all of them: `script(seen => turn)` gets what the upstream
 * received, read back in each server's own format (the last user text, the tool results after
 * the model's last calls in the order the model reads them, the tools it was offered), and
 * returns one turn (reasoning, text, a tool call), which each stand-in then sends in its own
 * wire format. Each path is reached through a `claude-…` alias, as a client that only knows
 * Claude ids reaches it.
 */
import { startAtraMlxStandIn, type AtraMlxStandIn } from "../standins/atra-mlx.ts";
import { startOpenAIStandIn, type OpenAIStandIn } from "../standins/mlx-lm.ts";
import { startOllamaChatStandIn, type ChatItem, type ChatStandIn } from "../standins/ollama-chat.ts";
import { startOllamaStandIn, type OllamaStandIn, type ReplyItem } from "../standins/ollama.ts";
import { fromOpenAI, renderChatml, tokenize } from "../standins/prefix-cache.ts";
import { startVictoriaStandIn, type VictoriaStandIn } from "../standins/victoria.ts";
import { startTestDaemon, type TestDaemon } from "../support/daemon.ts";
import { FAST_POLL } from "../support/gateway.ts";
import { noDefaultServices } from "../support/services.ts";

export const KIND_NAMES = ["anthropic", "openai-mlx", "openai-piecewise", "ollama", "ollama-prompt", "victoria"] as const;
export type KindName = (typeof KIND_NAMES)[number];

export interface Turn {
  reasoning?: string;
  text?: string;
  /** Tool calls, in order, after the text. */
  calls?: Array<{ name: string; input: Record<string, unknown> }>;
}

export interface Seen {
  /** The text of the last user turn as the upstream got it (results excluded where separable). */
  user: string;
  /** Tool results that follow the model's last calls, in the order the model reads them. */
  results: string[];
  /** Names of the tools the model was offered. */
  tools: string[];
}

export interface Kind {
  name: KindName;
  /** The `claude-…` id that reaches this path. */
  model: string;
  /** The model can call tools (victoria cannot). */
  tools: boolean;
  /** The path carries reasoning as thinking blocks. */
  reasoning: boolean;
  /** The last request body the upstream received. */
  last(): any;
  /** Whether the upstream got the JSON schema in its own form (or as an instruction). */
  sawSchema(body: any, property: string): boolean;
}

export interface Kinds {
  atrad: TestDaemon;
  kinds: Record<KindName, Kind>;
  script(fn: (seen: Seen, kind: KindName) => Turn): void;
  stop(): Promise<void>;
}

const partsText = (content: unknown): string =>
  typeof content === "string" ? content : Array.isArray(content) ? content.map((p: any) => (p?.type === "text" ? p.text : "")).join("") : "";

/** Chat-style bodies (OpenAI, /api/chat): role `tool` messages after the last calls. */
function seenChat(body: any, toolName: (t: any) => string): Seen {
  const messages: any[] = body.messages ?? [];
  const at = messages.findLastIndex((m) => m.role === "assistant" && m.tool_calls?.length);
  const results = at < 0 ? [] : messages.slice(at + 1).filter((m) => m.role === "tool").map((m) => partsText(m.content));
  const user = messages.findLast((m) => m.role === "user");
  return { user: user ? partsText(user.content) : "", results, tools: (body.tools ?? []).map(toolName) };
}

const RESULT = /<tool_result call="\d+" name="[^"]*"[^>]*>\n([\s\S]*?)\n<\/tool_result>/g;
const VICTORIA_RESULT = /\[tool result for [^\]]*\]\n([\s\S]*?)(?=\n\n\[|$)/g;

const ANTHROPIC_MODEL = "qwen2.5-coder:32b";
const MLX_MODEL = "mlx-community/Qwen2.5-Coder-7B-Instruct-4bit";
const VLLM_MODEL = "Qwen/Qwen2.5-Coder-7B-Instruct";
const OLLAMA_MODEL = "qwen3:8b";
const ATRA_MODEL = "qwen2.5-3b";

export async function startKinds(): Promise<Kinds> {
  const anthropic: OllamaStandIn = startOllamaStandIn({ models: [ANTHROPIC_MODEL], window: { trained: 32768, loaded: 32768 } });
  const mlx: OpenAIStandIn = startOpenAIStandIn({ flavor: "mlx", models: [MLX_MODEL] });
  const vllm: OpenAIStandIn = startOpenAIStandIn({ flavor: "piecewise", models: [VLLM_MODEL] });
  const chat: ChatStandIn = startOllamaChatStandIn({ models: [OLLAMA_MODEL], thinking: [OLLAMA_MODEL], window: { trained: 32768, loaded: 32768 } });
  const atra: AtraMlxStandIn = startAtraMlxStandIn({ models: [ATRA_MODEL], toolsMode: "reject" });
  const victoria: VictoriaStandIn = startVictoriaStandIn();
  const atrad = await startTestDaemon(`
[server]
ping_interval_s = 0.2
[providers.anthropic]
kind = "anthropic"
url = "${anthropic.url}"
[providers.mlx]
kind = "openai"
url = "${mlx.url}"
[providers.vllm]
kind = "openai"
url = "${vllm.url}"
[providers.ollama]
kind = "ollama"
url = "${chat.url}"
tools = "native"
[providers.atra]
kind = "ollama"
url = "${atra.url}"
tools = "prompt"
[providers.victoria]
kind = "victoria"
url = "${victoria.url}"
${FAST_POLL}
[routes]
default = ["mlx/${MLX_MODEL}"]
[routes.aliases]
claude-via-anthropic = ["anthropic/${ANTHROPIC_MODEL}"]
claude-via-openai-mlx = ["mlx/${MLX_MODEL}"]
claude-via-openai-piecewise = ["vllm/${VLLM_MODEL}"]
claude-via-ollama = ["ollama/${OLLAMA_MODEL}"]
claude-via-ollama-prompt = ["atra/${ATRA_MODEL}"]
claude-via-victoria = ["victoria"]
${noDefaultServices()}
`);

  let model: (seen: Seen, kind: KindName) => Turn = (seen) => ({ text: `echo: ${seen.user}` });

  anthropic.reply = (body) => {
    const last = (body.messages ?? []).at(-1);
    const blocks: any[] = typeof last?.content === "string" ? [{ type: "text", text: last.content }] : (last?.content ?? []);
    const results = blocks.filter((b) => b.type === "tool_result").map((b) => partsText(b.content));
    const turn = model({ user: partsText(blocks.filter((b) => b.type === "text")), results, tools: (body.tools ?? []).map((t: any) => t.name) }, "anthropic");
    const items: ReplyItem[] = [];
    if (turn.reasoning) items.push({ thinking: turn.reasoning });
    if (turn.text) items.push({ text: turn.text });
    for (const c of turn.calls ?? []) items.push({ tool: { name: c.name, input: c.input } });
    return { items };
  };

  for (const [server, name] of [[mlx, "openai-mlx"], [vllm, "openai-piecewise"]] as const) {
    server.reply = (body) => {
      const turn = model(seenChat(body, (t) => t.function?.name), name);
      const items = [
        ...(turn.reasoning ? [{ reasoning: turn.reasoning }] : []),
        ...(turn.text ? [{ text: turn.text }] : []),
        ...(turn.calls ?? []).map((c) => ({ tool: { name: c.name, arguments: JSON.stringify(c.input) } })),
      ];
      // The server's own count of the prompt it evaluated (ChatML), as usage reports it.
      const { messages, tools } = fromOpenAI(body);
      return { items, usage: { prompt: tokenize(renderChatml(messages, tools)).length, completion: 9 } };
    };
  }

  chat.reply = (body) => {
    const turn = model(seenChat(body, (t) => t.function?.name), "ollama");
    const items: ChatItem[] = [];
    if (turn.reasoning) items.push({ thinking: turn.reasoning });
    if (turn.text) items.push({ text: turn.text });
    for (const c of turn.calls ?? []) items.push({ tool: { name: c.name, arguments: c.input } });
    return { items };
  };

  atra.reply = (body) => {
    const messages: any[] = body.messages ?? [];
    const system = String(messages.find((m) => m.role === "system")?.content ?? "");
    const last = String(messages.findLast((m) => m.role === "user")?.content ?? "");
    const results = [...last.matchAll(RESULT)].map((m) => m[1]!);
    const tools = [...system.matchAll(/<tool name="([^"]+)">/g)].map((m) => m[1]!);
    const turn = model({ user: last.replace(RESULT, "").trim(), results, tools }, "ollama-prompt");
    const calls = (turn.calls ?? []).map((c) => `\n<tool_call>\n${JSON.stringify({ name: c.name, arguments: c.input })}\n</tool_call>`).join("");
    return { items: [{ text: `${turn.text ?? ""}${calls}` }] };
  };

  victoria.behave = (body) => {
    const goal = String(body.goal ?? "");
    const results = [...goal.matchAll(VICTORIA_RESULT)].map((m) => m[1]!);
    const turn = model({ user: goal.replace(VICTORIA_RESULT, "").trim(), results, tools: [] }, "victoria");
    return { type: "sync", body: { status: "success", output: turn.text ?? "", knowledge: {} } };
  };

  const properties = (schema: any) => Object.keys(schema?.properties ?? {});
  const kinds: Record<KindName, Kind> = {
    anthropic: {
      name: "anthropic",
      model: "claude-via-anthropic",
      tools: true,
      reasoning: true,
      last: () => anthropic.received.at(-1)?.body,
      sawSchema: (b, p) => properties(b?.output_config?.format?.schema).includes(p),
    },
    "openai-mlx": {
      name: "openai-mlx",
      model: "claude-via-openai-mlx",
      tools: true,
      reasoning: true,
      last: () => mlx.received.at(-1)?.body,
      sawSchema: (b, p) => b?.response_format?.type === "json_schema" && properties(b.response_format.json_schema?.schema).includes(p),
    },
    "openai-piecewise": {
      name: "openai-piecewise",
      model: "claude-via-openai-piecewise",
      tools: true,
      reasoning: true,
      last: () => vllm.received.at(-1)?.body,
      sawSchema: (b, p) => b?.response_format?.type === "json_schema" && properties(b.response_format.json_schema?.schema).includes(p),
    },
    ollama: { name: "ollama", model: "claude-via-ollama", tools: true, reasoning: true, last: () => chat.received.at(-1), sawSchema: (b, p) => properties(b?.format).includes(p) },
    "ollama-prompt": {
      name: "ollama-prompt",
      model: "claude-via-ollama-prompt",
      tools: true,
      reasoning: false,
      last: () => atra.received.at(-1)?.body,
      sawSchema: (b, p) => properties(b?.format).includes(p) || JSON.stringify(b?.messages ?? []).includes(`\\"${p}\\"`),
    },
    victoria: {
      name: "victoria",
      model: "claude-via-victoria",
      tools: false,
      reasoning: false,
      last: () => victoria.submissions.at(-1)?.body,
      sawSchema: (b, p) => String(b?.goal ?? "").includes(`"${p}"`),
    },
  };

  return {
    atrad,
    kinds,
    script: (fn) => (model = fn),
    stop: async () => {
      await atrad.stop();
      await Promise.all([anthropic.stop(), mlx.stop(), vllm.stop(), chat.stop(), atra.stop(), victoria.stop()]);
    },
  };
}

/** Short English words that every tokenizer counts one token each: prompts of a known size. */
export function words(n: number): string {
  const pool = ["the", "cat", "sat", "on", "a", "mat", "and", "ran", "off", "to", "see", "his", "old", "dog"];
  return Array.from({ length: n }, (_, i) => pool[(i * 7) % pool.length]).join(" ");
}

/** Text that has tripped byte-level relays before: indentation, blank lines, CRLF, emoji, CJK, RTL. */
export const TRICKY = "Plan:\n\n  1. read\r\n\t2. fix   it\n```py\ndef f():\n    return 1\n```\n— done ✓ 🚀 日本語 שלום";
