/**
 * A stand-in for Ollama ≥ 0.14's native Anthropic endpoint, reproducing what its sources do
 * (v0.33, `anthropic/anthropic.go` and `middleware/anthropic.go`): 403 with an empty body to a
 * foreign Host, 404 not_found_error for a model it lacks, a plain-text 404 for count_tokens, no
 * `ping` ever, `message_start` only once the first token is ready, each tool call as start + ONE
 * input_json_delta + stop, `stop_reason` omitted rather than null, system blocks joined with no
 * separator, and — on a mid-stream failure — a stream that just ends (no `error`, no
 * `message_stop`).
 */
import { lastUserText, pieces, receive, serve, sseEvent, streamed, type Received, type Served } from "./base.ts";
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
  /** Send nothing of the stream until this settles. */
  silentUntil?: Promise<unknown>;
  /** Hold the stream open after message_start until this settles. */
  hold?: Promise<unknown>;
  /** Answer with this status and raw body instead. */
  status?: number;
  body?: string;
}

export { lastUserText, pieces, type Received };

export interface OllamaStandIn extends Served {
  received: Received[];
  /** Prompts cut to the window (Ollama truncates silently). */
  truncated: Array<{ model: string; prompt: number; kept: number }>;
  models: string[];
  /** Decide the reply per request; defaults to echoing the last user text. */
  reply: (body: any) => Reply;
}

const LOCAL_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\]|\d+\.\d+\.\d+\.\d+|[a-z0-9-]+\.local)(:\d+)?$/i;

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
  const state: OllamaStandIn = serve<OllamaStandIn>(
    {
      received: [],
      truncated: [],
      models: opts.models ?? ["qwen2.5-coder:32b", "phi3.5:3.8b"],
      reply: (body) => ({ items: [{ text: `echo: ${lastUserText(body)}` }] }),
    },
    async (req, url) => {
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

      const rec = receive(req, url, state.received);
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
      return sseStream(reply, id, body.model, stopReason, inputTokens, outputTokens, req.signal);
    },
    opts.port,
  );
  return state;
}

function anthropicError(status: number, type: string, message: string) {
  return Response.json({ type: "error", error: { type, message }, request_id: `req_${status}` }, { status });
}

/** Ollama's stream: no `ping`, each tool call as start + ONE input_json_delta + stop; a failure mid-stream just ends it. */
function sseStream(reply: Reply, id: string, model: string, stopReason: string, inputTokens: number, outputTokens: number, signal: AbortSignal) {
  return streamed({ "content-type": "text/event-stream" }, signal, { ...reply, failAfter: reply.failAfterEvents }, async (send) => {
    const event = (type: string, data: object, content = true) => send(sseEvent(type, { type, ...data }), content);
    await event("message_start", { message: { id, type: "message", role: "assistant", model, content: [], usage: { input_tokens: inputTokens, output_tokens: 0 } } }, false);
    for (const [index, item] of reply.items.entries()) {
      if ("tool" in item) {
        await event("content_block_start", { index, content_block: { type: "tool_use", id: item.tool.id ?? `toolu_${id}_${index}`, name: item.tool.name, input: {} } });
        await event("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: JSON.stringify(item.tool.input) } });
      } else if ("thinking" in item) {
        await event("content_block_start", { index, content_block: { type: "thinking", thinking: "" } });
        for (const piece of pieces(item.thinking)) await event("content_block_delta", { index, delta: { type: "thinking_delta", thinking: piece } });
      } else {
        await event("content_block_start", { index, content_block: { type: "text", text: "" } });
        for (const piece of pieces(item.text)) await event("content_block_delta", { index, delta: { type: "text_delta", text: piece } });
      }
      await event("content_block_stop", { index });
    }
    await event("message_delta", { delta: { stop_reason: stopReason }, usage: { input_tokens: inputTokens, output_tokens: outputTokens } }, false);
    await event("message_stop", {}, false);
  });
}
