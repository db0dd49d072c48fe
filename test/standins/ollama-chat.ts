/**
 * A stand-in for Ollama's native `/api/chat` (older Ollama, or any Ollama used through the
 * `ollama` kind), reproducing its documented behaviour (ollama docs/api.md): NDJSON streaming
 * by default (`stream` absent means true), thinking in `message.thinking`, tool calls whole in
 * one chunk with `function.arguments` as an object, `done_reason: "stop"` even after tool calls,
 * counts on the last line, `{"error": "..."}` bodies with 404 for a missing model and 400 for a
 * model without tool or thinking support, and a `{"error"}` line when generation fails.
 */
import { cutAtStop, ndjson, pieces, serve, type Served } from "./base.ts";
import { OLLAMA_DEFAULT_CTX, windowRoutes, type OllamaWindowOptions } from "./ollama-windows.ts";
import { fromOllamaChat, renderAnswer, renderOllama, tokenize, type PrefixCache } from "./prefix-cache.ts";

export { ndjson, pieces };

export type ChatItem = { text: string } | { thinking: string } | { tool: { name: string; arguments: unknown } };

export interface ChatReply {
  items: ChatItem[];
  done_reason?: string;
  /** Answer with this status and `{"error": error}` instead. */
  status?: number;
  error?: string;
  /** Send an `{"error"}` line after this many content lines, then end. */
  failAfter?: number;
  pieceDelayMs?: number;
}

export interface ChatStandIn extends Served {
  /** The bodies of the chat requests, in order. */
  received: any[];
  /** Prompts cut to the window (the silent truncation atrad must prevent). */
  truncated: Array<{ model: string; prompt: number; kept: number }>;
  /** The context each model's runner was last loaded with. */
  loadedCtx: Map<string, number>;
  models: string[];
  reply: (body: any) => ChatReply;
}

export function lastMessageText(body: any): string {
  const last = body.messages?.at(-1);
  return typeof last?.content === "string" ? last.content : "";
}

export interface ChatStandInOptions {
  models?: string[];
  toolless?: string[];
  thinking?: string[];
  /** Model the runner's prefix cache: `prompt_eval_count` then counts only what it evaluated. */
  cache?: PrefixCache;
  /** Model windows: /api/ps and /api/show answer, and a longer prompt is cut silently (as Ollama does). */
  window?: OllamaWindowOptions;
}

export function startOllamaChatStandIn(opts: ChatStandInOptions = {}): ChatStandIn {
  const state: ChatStandIn = serve<ChatStandIn>(
    {
      received: [],
      truncated: [],
      loadedCtx: new Map(),
      models: opts.models ?? ["qwen2.5-coder:7b", "qwen3:8b"],
      reply: (body) => ({ items: [{ text: `echo: ${lastMessageText(body)}` }] }),
    },
    async (req, url) => {
      if (req.method === "GET" && url.pathname === "/api/version") return Response.json({ version: "0.5.7" });
      if (req.method === "GET" && url.pathname === "/api/tags")
        return Response.json({ models: state.models.map((name) => ({ name, model: name, modified_at: "2026-01-01T00:00:00Z", size: 1, digest: "x", details: {} })) });
      if (opts.window) {
        const windows = windowRoutes(req, url, state.models, opts.window, state.loadedCtx);
        if (windows) return windows;
      }
      if (req.method !== "POST" || url.pathname !== "/api/chat") return new Response("404 page not found", { status: 404 });
      let body: any;
      try {
        body = await req.json();
      } catch (err) {
        return Response.json({ error: `invalid character: ${(err as Error).message}` }, { status: 400 });
      }
      state.received.push(body);
      if (!state.models.includes(body.model)) return Response.json({ error: `model "${body.model}" not found, try pulling it first` }, { status: 404 });
      if (body.tools?.length && opts.toolless?.includes(body.model))
        return Response.json({ error: `registry.ollama.ai/library/${body.model} does not support tools` }, { status: 400 });
      if (body.think === true && !(opts.thinking ?? ["qwen3:8b"]).includes(body.model))
        return Response.json({ error: `"${body.model}" does not support thinking` }, { status: 400 });
      const reply = honourStop(state.reply(body), body.options?.stop);
      if (reply.status) return Response.json({ error: reply.error ?? "error" }, { status: reply.status });
      let counts: Counts | undefined;
      if (opts.cache || opts.window) {
        const { messages, tools } = fromOllamaChat(body);
        let prompt = renderOllama(messages, tools);
        if (opts.window) {
          // The runner is (re)loaded with the request's num_ctx; a longer prompt loses its start, silently.
          const ctx = body.options?.num_ctx ?? opts.window.loaded ?? OLLAMA_DEFAULT_CTX;
          state.loadedCtx.set(body.model, ctx);
          const tokens = tokenize(prompt);
          if (tokens.length > ctx) {
            state.truncated.push({ model: body.model, prompt: tokens.length, kept: ctx });
            prompt = tokens.slice(tokens.length - ctx).join("");
          }
        }
        const answer = renderAnswer({ text: reply.items.map((i) => ("text" in i ? i.text : "")).join(""), tool_calls: reply.items.flatMap((i) => ("tool" in i ? [i.tool] : [])) });
        if (opts.cache) {
          const use = opts.cache.prefill(body.model, prompt);
          use.answered(answer);
          counts = { prompt_eval_count: use.evaluated, eval_count: tokenize(answer).length };
        } else counts = { prompt_eval_count: tokenize(prompt).length, eval_count: tokenize(answer).length };
      }
      const lines = chatLines(body.model, reply, { counts: true, ...(counts ? { figures: counts } : {}) });
      if (body.stream === false) return Response.json(collapse(lines));
      return ndjson(lines, reply.pieceDelayMs, req.signal);
    },
  );
  return state;
}

type Counts = { prompt_eval_count: number; eval_count: number };

/** The NDJSON lines /api/chat sends for a scripted reply. */
export function chatLines(model: string, reply: ChatReply, opts: { counts: boolean; figures?: Counts }): object[] {
  const at = () => new Date().toISOString();
  const lines: object[] = [];
  let n = 0;
  for (const item of reply.items) {
    if (reply.failAfter !== undefined && n >= reply.failAfter) {
      lines.push({ error: "an error was encountered while running the model: unexpected EOF" });
      return lines;
    }
    if ("tool" in item) lines.push({ model, created_at: at(), message: { role: "assistant", content: "", tool_calls: [{ function: { name: item.tool.name, arguments: item.tool.arguments } }] }, done: false });
    else if ("thinking" in item) for (const p of pieces(item.thinking)) lines.push({ model, created_at: at(), message: { role: "assistant", content: "", thinking: p }, done: false });
    else for (const p of pieces(item.text)) lines.push({ model, created_at: at(), message: { role: "assistant", content: p }, done: false });
    n++;
  }
  const last: Record<string, unknown> = { model, created_at: at(), message: { role: "assistant", content: "" }, done: true };
  if (opts.counts) Object.assign(last, { done_reason: reply.done_reason ?? "stop", total_duration: 1000, ...(opts.figures ?? { prompt_eval_count: 21, eval_count: 9 }) });
  lines.push(last);
  return lines;
}

function collapse(lines: any[]): object {
  const last = { ...lines.at(-1) };
  const message: any = { role: "assistant", content: "" };
  for (const l of lines) {
    if (!l.message) continue;
    message.content += l.message.content ?? "";
    if (l.message.thinking) message.thinking = (message.thinking ?? "") + l.message.thinking;
    if (l.message.tool_calls) message.tool_calls = [...(message.tool_calls ?? []), ...l.message.tool_calls];
  }
  return { ...last, message };
}

/** Ollama stops at an `options.stop` string, leaves it out and says only done_reason "stop". */
export function honourStop(reply: ChatReply, stop: unknown): ChatReply {
  const cut = cutAtStop(reply.items, stop);
  return cut ? { ...reply, items: cut.items, done_reason: "stop" } : reply;
}
