/**
 * Stand-ins for OpenAI-compatible chat servers, in two flavours that reproduce what their
 * sources do:
 *
 * - "mlx" — mlx_lm.server (mlx_lm/server.py): 411 `{"error": "Content-Length header is
 *   required"}` to a body without Content-Length; content arrays may hold only `text` parts,
 *   and every failure while setting up generation (that one, a model it cannot load, history
 *   tool-call arguments that are not JSON) is HTTP 404 `{"error": "<str(exception)>"}`;
 *   `: keepalive N/M` SSE comments during prompt processing; reasoning in `delta.reasoning`;
 *   each tool call whole (uuid id, `index`) in the final chunk beside `finish_reason`; usage
 *   only when `stream_options.include_usage`, as a last chunk with `choices: []` before
 *   `[DONE]`; `GET /health` → `{"status":"ok"}`.
 * - "piecewise" — vLLM / LM Studio style: a role chunk first, `reasoning_content`, tool-call
 *   arguments streamed a few characters at a time after a header fragment with id and name,
 *   `stop_reason` naming the matched stop string, images accepted, errors as
 *   `{"error": {"message", "type", "code"}}`, and a failure after the 200 as an error chunk.
 */
import { cutAtStop, lastUserText, pieces, receive, serve, sseData, streamed, type Received, type Served } from "./base.ts";
import { fromOpenAI, renderAnswer, renderChatml, tokenize, type PrefixCache } from "./prefix-cache.ts";

export type Flavor = "mlx" | "piecewise";
export type OpenAIReplyItem = { text: string } | { reasoning: string } | { tool: { id?: string; name: string; arguments: string } };

export interface OpenAIReply {
  items: OpenAIReplyItem[];
  /** finish_reason; default "tool_calls" when a tool is in items, else "stop". */
  finish?: "stop" | "length" | "tool_calls";
  /** piecewise: the stop string vLLM reports in `stop_reason`. */
  stopString?: string;
  usage?: { prompt: number; completion: number; cached?: number };
  firstTokenDelayMs?: number;
  pieceDelayMs?: number;
  /** Close the connection after this many content chunks: no finish_reason, no [DONE]. */
  cutAfterChunks?: number;
  /** Send a chunk that is not JSON after the content. */
  garbage?: boolean;
  /** piecewise: an error chunk after the content instead of finishing. */
  errorChunk?: { message: string; code: number };
  /** Answer one chat.completion JSON even to `stream: true` (servers that ignore it). */
  ignoreStream?: boolean;
  /** Answer with this status and raw body instead. */
  status?: number;
  body?: string;
}

export type OpenAIReceived = Received;
export { lastUserText };

export interface OpenAIStandIn extends Served {
  flavor: Flavor;
  models: string[];
  received: OpenAIReceived[];
  reply: (body: any) => OpenAIReply;
}

/**
 * How a server reports its prefix cache: `cached_tokens` in usage (LM Studio, vLLM), or
 * llama.cpp's `timings` (`cache_n` served from the cache, `prompt_n` evaluated).
 */
export type CacheReport = "cached_tokens" | "timings";
/**
 * How a server tells its context window: llama.cpp's `GET /props` `n_ctx`, LM Studio's
 * `GET /api/v0/models/<id>` `loaded_context_length` (its REST API beside the OpenAI one), vLLM's
 * `max_model_len` in `/v1/models`, or not at all (LM Studio's OpenAI API). A prompt longer
 * than the window gets that server's own overflow error.
 */
export type WindowReport = "props" | "max_model_len" | "lmstudio" | "none";

export interface OpenAIStandInOptions {
  flavor: Flavor;
  models?: string[];
  /** Model the server's prefix cache (ChatML rendering); usage then reports it. */
  cache?: { cache: PrefixCache; report: CacheReport };
  window?: { tokens: number; report: WindowReport };
}

export function startOpenAIStandIn(opts: OpenAIStandInOptions): OpenAIStandIn {
  const mlx = opts.flavor === "mlx";
  const fail = (status: number, message: string, type = "BadRequestError") =>
    mlx ? Response.json({ error: message }, { status }) : Response.json({ error: { message, type, code: status } }, { status });

  const state: OpenAIStandIn = serve<OpenAIStandIn>(
    {
      flavor: opts.flavor,
      models: opts.models ?? ["mlx-community/Qwen2.5-Coder-7B-Instruct-4bit"],
      received: [],
      reply: (body) => ({ items: [{ text: `echo: ${lastUserText(body)}` }] }),
    },
    async (req, url) => {
      if (req.method === "GET" && url.pathname === "/health") return Response.json({ status: "ok" });
      if (req.method === "GET" && url.pathname === "/v1/models") {
        const maxLen = opts.window?.report === "max_model_len" ? { max_model_len: opts.window.tokens } : {};
        return Response.json({ object: "list", data: state.models.map((id) => ({ id, object: "model", created: 1700000000, ...maxLen })) });
      }
      if (req.method === "GET" && url.pathname.startsWith("/api/v0/models/") && opts.window?.report === "lmstudio") {
        const id = decodeURIComponent(url.pathname.slice("/api/v0/models/".length));
        if (!state.models.includes(id)) return Response.json({ error: `Model "${id}" not found` }, { status: 404 });
        return Response.json({ id, object: "model", type: "llm", state: "loaded", max_context_length: 131072, loaded_context_length: opts.window.tokens });
      }
      if (req.method === "GET" && url.pathname === "/props" && opts.window?.report === "props")
        return Response.json({ default_generation_settings: { n_ctx: opts.window.tokens }, total_slots: 1, model_path: state.models[0] });
      if (req.method !== "POST" || !["/v1/chat/completions", "/chat/completions"].includes(url.pathname)) return new Response("Not Found", { status: 404 });
      const rec = receive(req, url, state.received);
      if (mlx && req.headers.get("content-length") === null) return Response.json({ error: "Content-Length header is required" }, { status: 411 });
      let body: any;
      try {
        body = JSON.parse(await req.text());
      } catch (err) {
        return fail(400, `Invalid JSON in request body: ${(err as Error).message}`);
      }
      rec.body = body;
      if (!state.models.includes(body.model)) {
        return mlx
          ? fail(404, `404 Client Error. Repository Not Found for url: https://huggingface.co/api/models/${body.model}/revision/main.`)
          : fail(404, `The model \`${body.model}\` does not exist.`, "NotFoundError");
      }
      if (mlx) {
        for (const m of body.messages ?? []) {
          if (Array.isArray(m.content) && m.content.some((p: any) => p.type !== "text")) return fail(404, "Only 'text' content type is supported.");
          for (const tc of m.tool_calls ?? []) {
            try {
              JSON.parse(tc.function.arguments);
            } catch (err) {
              return fail(404, `Expecting value: line 1 column 1 (char 0) (${(err as Error).message})`);
            }
          }
        }
      }
      const { messages, tools } = fromOpenAI(body);
      const prompt = opts.cache || opts.window ? renderChatml(messages, tools) : "";
      if (opts.window) {
        const n = tokenize(prompt).length;
        if (n > opts.window.tokens) return overflow(opts.window.report, n, opts.window.tokens, body.max_tokens ?? 0);
      }
      const reply = honourStop(state.reply(body), body.stop, mlx);
      if (reply.status) return new Response(reply.body ?? "", { status: reply.status, headers: { "content-type": "application/json" } });
      const ctx = { id: `chatcmpl-${crypto.randomUUID().slice(0, 8)}`, model: body.model, created: Math.floor(Date.now() / 1000) };
      const finish = reply.finish ?? (reply.items.some((i) => "tool" in i) ? "tool_calls" : "stop");
      let usage: Usage = reply.usage ?? { prompt: 42, completion: 7 };
      let timings: object | undefined;
      if (opts.cache) {
        // cache_prompt: false (llama.cpp) evaluates the whole prompt again.
        const use = opts.cache.cache.prefill(body.model, body.cache_prompt === false ? `\u0000${prompt}` : prompt, typeof body.id_slot === "number" ? body.id_slot : undefined);
        const text = reply.items.map((i) => ("text" in i ? i.text : "")).join("");
        const calls = reply.items.flatMap((i) => ("tool" in i ? [{ name: i.tool.name, arguments: i.tool.arguments }] : []));
        const answer = renderAnswer({ text, tool_calls: calls });
        use.answered(answer);
        const completionTokens = tokenize(answer).length;
        if (opts.cache.report === "timings") {
          usage = reply.usage ?? { prompt: use.prompt, completion: completionTokens };
          timings = { cache_n: use.cached, prompt_n: use.evaluated, predicted_n: completionTokens, prompt_ms: use.evaluated / 2, predicted_ms: completionTokens * 20 };
        } else usage = reply.usage ?? { prompt: use.prompt, completion: completionTokens, cached: use.cached };
      }
      if (!body.stream || reply.ignoreStream) return Response.json({ ...completion(reply, ctx, finish, usage, mlx), ...(timings ? { timings } : {}) });
      const includeUsage = body.stream_options?.include_usage === true;
      return stream(reply, ctx, finish, usage, includeUsage, mlx, req.signal, timings);
    },
  );
  return state;
}

/** Each server's answer to a prompt longer than its window. */
function overflow(report: WindowReport, n: number, window: number, maxTokens: number): Response {
  switch (report) {
    case "props":
      return Response.json(
        { error: { code: 400, message: "the request exceeds the available context size, try increasing it", type: "exceed_context_size_error", n_prompt_tokens: n, n_ctx: window } },
        { status: 400 },
      );
    case "max_model_len":
      return Response.json(
        {
          object: "error",
          message: `This model's maximum context length is ${window} tokens. However, you requested ${n + maxTokens} tokens (${n} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`,
          type: "BadRequestError",
          param: null,
          code: 400,
        },
        { status: 400 },
      );
    case "lmstudio":
    case "none":
      return Response.json({ error: `Trying to keep the first ${n} tokens when context the overflows. However, the model is loaded with context length of only ${window} tokens, which is not enough. Try to load the model with a larger context length, or provide a shorter input` }, { status: 500 });
    default:
      return report satisfies never;
  }
}

type Ctx = { id: string; model: string; created: number };
type Usage = NonNullable<OpenAIReply["usage"]>;

const usageJson = (u: Usage) => ({
  prompt_tokens: u.prompt,
  completion_tokens: u.completion,
  total_tokens: u.prompt + u.completion,
  ...(u.cached !== undefined ? { prompt_tokens_details: { cached_tokens: u.cached } } : {}),
});

function completion(reply: OpenAIReply, ctx: Ctx, finish: string, usage: Usage, mlx: boolean) {
  const text = reply.items.map((i) => ("text" in i ? i.text : "")).join("");
  const reasoning = reply.items.map((i) => ("reasoning" in i ? i.reasoning : "")).join("");
  const tools = reply.items.flatMap((i, n) => ("tool" in i ? [{ id: i.tool.id ?? crypto.randomUUID(), type: "function", function: { name: i.tool.name, arguments: i.tool.arguments } }] : []));
  const message: Record<string, unknown> = { role: "assistant", content: text || (mlx ? undefined : null) };
  if (reasoning) message[mlx ? "reasoning" : "reasoning_content"] = reasoning;
  if (tools.length) message.tool_calls = tools;
  return { ...ctx, object: "chat.completion", choices: [{ index: 0, finish_reason: finish, message }], usage: usageJson(usage) };
}

function stream(reply: OpenAIReply, ctx: Ctx, finish: string, usage: Usage, includeUsage: boolean, mlx: boolean, signal: AbortSignal, timings?: object) {
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => sseData({ ...ctx, object: "chat.completion.chunk", ...(mlx ? { system_fingerprint: "0.30.0-test" } : {}), choices, ...extra });
  const delta = (d: Record<string, unknown>, finishReason: string | null = null, extra: Record<string, unknown> = {}) =>
    chunk([{ index: 0, finish_reason: finishReason, ...(mlx ? {} : { logprobs: null }), delta: mlx ? { role: "assistant", ...d } : d, ...extra }]);
  // mlx_lm.server sends keepalive comments while it processes the prompt, so its first delay sits between two of them.
  const pacing = { pieceDelayMs: reply.pieceDelayMs, failAfter: reply.cutAfterChunks };
  return streamed({ "content-type": "text/event-stream", "cache-control": "no-cache" }, signal, pacing, async (send) => {
    if (mlx) await send(": keepalive 128/256\n\n", false);
    await Bun.sleep(reply.firstTokenDelayMs ?? 0);
    if (mlx) await send(": keepalive 256/256\n\n", false);
    else await send(delta({ role: "assistant", content: "" }), false);
    const tools: Array<{ id?: string; name: string; arguments: string }> = [];
    for (const item of reply.items) {
      if ("text" in item) for (const p of pieces(item.text)) await send(delta({ content: p }));
      else if ("reasoning" in item) for (const p of pieces(item.reasoning)) await send(delta(mlx ? { reasoning: p } : { reasoning_content: p }));
      else tools.push(item.tool);
    }
    if (!mlx) {
      for (const [index, t] of tools.entries()) {
        await send(delta({ tool_calls: [{ index, id: t.id ?? `chatcmpl-tool-${index}${ctx.id.slice(-6)}`, type: "function", function: { name: t.name, arguments: "" } }] }));
        for (const p of t.arguments.match(/[\s\S]{1,5}/g) ?? []) await send(delta({ tool_calls: [{ index, function: { arguments: p } }] }));
      }
    }
    if (reply.garbage) await send("data: {this is not json\n\n", false);
    if (reply.errorChunk) {
      await send(sseData({ error: { object: "error", message: reply.errorChunk.message, type: "InternalServerError", code: reply.errorChunk.code } }), false);
      await send("data: [DONE]\n\n", false);
      return;
    }
    if (mlx) {
      // mlx_lm.server: the calls arrive whole, in the chunk that carries finish_reason.
      const calls = tools.map((t, index) => ({ function: { name: t.name, arguments: t.arguments }, type: "function", id: t.id ?? crypto.randomUUID(), index }));
      await send(delta(calls.length ? { tool_calls: calls } : {}, finish), false);
    } else {
      // llama.cpp puts its timings beside the choices of the chunk that finishes.
      const last = { index: 0, finish_reason: finish, logprobs: null, delta: {}, stop_reason: reply.stopString ?? null };
      await send(chunk([last], timings ? { timings } : {}), false);
    }
    if (includeUsage) await send(mlx ? sseData({ ...ctx, object: "chat.completion", choices: [], usage: usageJson(usage) }) : chunk([], { usage: usageJson(usage) }), false);
    await send("data: [DONE]\n\n", false);
  });
}

/**
 * Both flavours stop at a `stop` string and leave it out of the text, finishing with "stop";
 * only vLLM-style servers say which string matched (`stop_reason`), mlx_lm.server does not.
 */
function honourStop(reply: OpenAIReply, stop: unknown, mlx: boolean): OpenAIReply {
  const cut = cutAtStop(reply.items, stop);
  return cut ? { ...reply, items: cut.items, finish: "stop", stopString: mlx ? undefined : cut.matched } : reply;
}
