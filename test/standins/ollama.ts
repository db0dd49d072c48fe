/**
 * A stand-in for Ollama ≥ 0.14's native Anthropic endpoint, reproducing what its sources do
 * (DESIGN §4.8): 403 with an empty body to a foreign Host, 404 not_found_error for a model it
 * lacks, a plain-text 404 for count_tokens, no `ping` ever, `message_start` only once the first
 * token is ready, each tool call as start + ONE input_json_delta + stop, `stop_reason` omitted
 * rather than null, system blocks joined with no separator, and — on a mid-stream failure —
 * a stream that just ends (no `error`, no `message_stop`).
 */
import type { Server } from "bun";
import { OLLAMA_DEFAULT_CTX, windowRoutes, type OllamaWindowOptions } from "./ollama-windows.ts";
import { fromAnthropic, renderAnswer, renderOllama, tokenize, type PrefixCache } from "./prefix-cache.ts";

export type ReplyItem = { text: string } | { thinking: string } | { tool: { id?: string; name: string; input: unknown } };

export interface Reply {
  items: ReplyItem[];
  stop_reason?: "end_turn" | "tool_use" | "max_tokens";
  /** Delay before the first token (model load + prefill: silence on the wire). */
  firstTokenDelayMs?: number;
  /** Delay between streamed pieces. */
  pieceDelayMs?: number;
  /** End the stream after this many content events, as Ollama does when generation fails. */
  failAfterEvents?: number;
  /** Answer with this status and raw body instead. */
  status?: number;
  body?: string;
}

export interface Received {
  path: string;
  headers: Record<string, string>;
  body: any;
  aborted: boolean;
}

export interface OllamaStandIn {
  url: string;
  port: number;
  received: Received[];
  /** Prompts cut to the window (Ollama truncates silently). */
  truncated: Array<{ model: string; prompt: number; kept: number }>;
  models: string[];
  /** Decide the reply per request; defaults to echoing the last user text. */
  reply: (body: any) => Reply;
  stop(): Promise<void>;
}

const LOCAL_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\]|\d+\.\d+\.\d+\.\d+|[a-z0-9-]+\.local)(:\d+)?$/i;

export function lastUserText(body: any): string {
  const last = [...(body.messages ?? [])].reverse().find((m: any) => m.role === "user");
  if (!last) return "";
  if (typeof last.content === "string") return last.content;
  return last.content.filter((b: any) => b.type === "text").map((b: any) => b.text).join("");
}

/** `port`: listen there instead of an ephemeral port (a server that comes up at a known place). */
export function startOllamaStandIn(
  opts: {
    models?: string[];
    toolless?: string[];
    port?: number;
    /** Model the runner's prefix cache (Ollama's template): usage.input_tokens then counts only what it evaluated. */
    cache?: PrefixCache;
    window?: OllamaWindowOptions;
  } = {},
): OllamaStandIn {
  const loadedCtx = new Map<string, number>();
  const state: OllamaStandIn = {
    url: "",
    port: 0,
    received: [],
    truncated: [],
    models: opts.models ?? ["qwen2.5-coder:32b", "phi3.5:3.8b"],
    reply: (body) => ({ items: [{ text: `echo: ${lastUserText(body)}` }] }),
    stop: async () => {},
  };
  const server: Server<unknown> = Bun.serve({
    hostname: "127.0.0.1",
    port: opts.port ?? 0,
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      // Ollama's allowedHostsMiddleware: a loopback listener refuses foreign Host names.
      if (!LOCAL_HOST.test(req.headers.get("host") ?? "")) return new Response(null, { status: 403 });
      if (req.method === "GET" && url.pathname === "/api/version") return Response.json({ version: "0.33.0" });
      if (req.method === "GET" && url.pathname === "/api/tags")
        return Response.json({ models: state.models.map((name) => ({ name, model: name, size: 1 })) });
      if (req.method === "GET" && url.pathname === "/v1/models")
        return Response.json({ object: "list", data: state.models.map((id) => ({ id, object: "model", created: 1, owned_by: "library" })) });
      if (opts.window) {
        const windows = windowRoutes(req, url, state.models, opts.window, loadedCtx);
        if (windows) return windows;
      }
      if (req.method !== "POST" || url.pathname !== "/v1/messages")
        return new Response("404 page not found", { status: 404, headers: { "content-type": "text/plain" } });

      const rec: Received = { path: url.pathname + url.search, headers: Object.fromEntries(req.headers), body: undefined, aborted: false };
      state.received.push(rec);
      req.signal.addEventListener("abort", () => (rec.aborted = true));
      let body: any;
      try {
        body = await req.json();
      } catch (err) {
        return anthropicError(400, "invalid_request_error", `invalid character in JSON: ${(err as Error).message}`);
      }
      rec.body = body;
      if (typeof body.model !== "string") return anthropicError(400, "invalid_request_error", "json: cannot unmarshal number into Go struct field MessagesRequest.model of type string");
      if (!state.models.includes(body.model)) return anthropicError(404, "not_found_error", `model '${body.model}' not found`);
      if (body.tools?.length && opts.toolless?.includes(body.model)) return anthropicError(400, "invalid_request_error", `${body.model} does not support tools`);
      const reply = state.reply(body);
      if (reply.status) return new Response(reply.body ?? "", { status: reply.status, headers: { "content-type": "application/json" } });
      const id = `msg_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
      const stopReason = reply.stop_reason ?? (reply.items.some((i) => "tool" in i) ? "tool_use" : "end_turn");
      let outputTokens = reply.items.reduce((n, i) => n + JSON.stringify(i).length / 4, 0) | 0;
      // Ollama reports prompt_eval_count as input_tokens: the tokens it evaluated, not the cached prefix.
      let inputTokens = 12;
      if (opts.cache || opts.window) {
        const { messages, tools } = fromAnthropic(body);
        let prompt = renderOllama(messages, tools);
        const tokens = tokenize(prompt);
        const ctx = opts.window?.loaded ?? OLLAMA_DEFAULT_CTX;
        if (opts.window) loadedCtx.set(body.model, ctx);
        if (opts.window && tokens.length > ctx) {
          state.truncated.push({ model: body.model, prompt: tokens.length, kept: ctx });
          prompt = tokens.slice(tokens.length - ctx).join("");
        }
        const answer = renderAnswer({
          text: reply.items.map((i) => ("text" in i ? i.text : "")).join(""),
          tool_calls: reply.items.flatMap((i) => ("tool" in i ? [{ name: i.tool.name, arguments: i.tool.input }] : [])),
        });
        outputTokens = tokenize(answer).length;
        if (opts.cache) {
          const use = opts.cache.prefill(body.model, prompt);
          use.answered(answer);
          inputTokens = use.evaluated;
        } else inputTokens = tokenize(prompt).length;
      }
      if (!body.stream) {
        await Bun.sleep(reply.firstTokenDelayMs ?? 0);
        return Response.json({
          id,
          type: "message",
          role: "assistant",
          model: body.model,
          content: reply.items.map((i) => ("text" in i ? { type: "text", text: i.text } : "thinking" in i ? { type: "thinking", thinking: i.thinking } : { type: "tool_use", id: i.tool.id ?? `toolu_${id}`, name: i.tool.name, input: i.tool.input })),
          stop_reason: stopReason,
          usage: { input_tokens: inputTokens, output_tokens: outputTokens },
        });
      }
      return new Response(sseStream(reply, id, body.model, stopReason, inputTokens, outputTokens, req.signal), { headers: { "content-type": "text/event-stream" } });
    },
  });
  state.port = server.port!;
  state.url = `http://127.0.0.1:${server.port}`;
  state.stop = () => server.stop(true);
  return state;
}

function anthropicError(status: number, type: string, message: string) {
  return Response.json({ type: "error", error: { type, message }, request_id: `req_${status}` }, { status });
}

function sseStream(reply: Reply, id: string, model: string, stopReason: string, inputTokens: number, outputTokens: number, signal: AbortSignal) {
  const enc = new TextEncoder();
  const frame = (type: string, data: object) => enc.encode(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  return new ReadableStream<Uint8Array>({
    async start(c) {
      let sent = 0;
      const send = async (type: string, data: object, content = true) => {
        if (signal.aborted) throw new Error("aborted");
        if (content && reply.failAfterEvents !== undefined && sent >= reply.failAfterEvents) throw new Error("generation failed");
        if (content) sent++;
        c.enqueue(frame(type, data));
        if (reply.pieceDelayMs) await Bun.sleep(reply.pieceDelayMs);
      };
      try {
        await Bun.sleep(reply.firstTokenDelayMs ?? 0);
        await send("message_start", { message: { id, type: "message", role: "assistant", model, content: [], usage: { input_tokens: inputTokens, output_tokens: 0 } } }, false);
        for (const [index, item] of reply.items.entries()) {
          if ("tool" in item) {
            await send("content_block_start", { index, content_block: { type: "tool_use", id: item.tool.id ?? `toolu_${id}_${index}`, name: item.tool.name, input: {} } });
            await send("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: JSON.stringify(item.tool.input) } });
          } else if ("thinking" in item) {
            await send("content_block_start", { index, content_block: { type: "thinking", thinking: "" } });
            for (const piece of pieces(item.thinking)) await send("content_block_delta", { index, delta: { type: "thinking_delta", thinking: piece } });
          } else {
            await send("content_block_start", { index, content_block: { type: "text", text: "" } });
            for (const piece of pieces(item.text)) await send("content_block_delta", { index, delta: { type: "text_delta", text: piece } });
          }
          await send("content_block_stop", { index });
        }
        await send("message_delta", { delta: { stop_reason: stopReason }, usage: { input_tokens: inputTokens, output_tokens: outputTokens } }, false);
        await send("message_stop", {}, false);
        c.close();
      } catch {
        // Ollama's behaviour on a failure mid-stream: the stream simply ends.
        try {
          c.close();
        } catch {}
      }
    },
  });
}

/** Split text into small pieces the way a tokenizer would, keeping every character. */
export function pieces(text: string): string[] {
  return text.match(/\s*\S{1,4}|\s+$/g) ?? (text ? [text] : []);
}
