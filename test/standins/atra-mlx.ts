/**
 * A stand-in for the ATRA MLX server (`knowledge_os/app/mlx_api_server.py`):
 * Ollama-style `/api/chat` and `/api/generate` (NDJSON when streaming), `/api/tags`, `/health`
 * answering 200 with a `status` field even when critical, `/queue/stats`, 429 `{"error"}` on
 * its rate limit, 503 when no generation slot frees in time, and **no tool support**: a
 * `tools` field is ignored, as its pydantic model drops unknown fields (or rejected, to test
 * that atrad never sends one). Its final line has no `done_reason` and no token counts.
 */
import { ndjson, pieces, serve, type Served } from "./base.ts";
import { chatLines, lastMessageText, type ChatReply } from "./ollama-chat.ts";

export interface AtraMlxStandIn extends Served {
  received: Array<{ path: string; body: any; priority: string | null }>;
  models: string[];
  health: "healthy" | "warning" | "degraded" | "critical";
  /** Next requests answer 429 (rate limit) or 503 (no slot) while set. */
  refuse?: 429 | 503;
  toolsMode: "ignore" | "reject";
  reply: (body: any) => ChatReply;
}

export function startAtraMlxStandIn(opts: { models?: string[]; toolsMode?: "ignore" | "reject" } = {}): AtraMlxStandIn {
  const state: AtraMlxStandIn = serve<AtraMlxStandIn>(
    {
      received: [],
      models: opts.models ?? ["qwen2.5-3b", "phi3.5", "phi3", "tinyllama"],
      health: "healthy",
      toolsMode: opts.toolsMode ?? "ignore",
      reply: (body) => ({ items: [{ text: `mlx echo: ${lastMessageText(body)}` }] }),
    },
    async (req, url) => {
      if (req.method === "GET" && url.pathname === "/health") return Response.json({ status: state.health, active_requests: 0, models_loaded: state.models.length });
      if (req.method === "GET" && url.pathname === "/queue/stats") return Response.json({ queue_size: 0, active: 0, max_concurrent: 2 });
      if (req.method === "GET" && url.pathname === "/api/tags") return Response.json({ models: state.models.map((name) => ({ name, size: 1, modified_at: "2026-01-01T00:00:00" })) });
      if (req.method !== "POST" || (url.pathname !== "/api/chat" && url.pathname !== "/api/generate"))
        return Response.json({ detail: "Not Found" }, { status: 404 });
      const body: any = await req.json().catch(() => null);
      if (!body) return Response.json({ detail: "invalid JSON" }, { status: 422 });
      state.received.push({ path: url.pathname, body, priority: req.headers.get("x-request-priority") });
      if (state.refuse === 429) return Response.json({ error: "Rate limit exceeded: too many requests" }, { status: 429 });
      if (state.refuse === 503) return Response.json({ error: "No generation slot available (timeout waiting for slot)" }, { status: 503 });
      if (!state.models.includes(body.model)) return Response.json({ error: `Model ${body.model} not found in ~/mlx-models` }, { status: 404 });
      const stream = body.stream !== false;
      if (url.pathname === "/api/generate") {
        const text = `mlx generated: ${body.prompt}`;
        if (!stream) return Response.json({ model: body.model, created_at: new Date().toISOString(), response: text, done: true });
        return ndjson([...pieces(text).map((p) => ({ model: body.model, response: p, done: false })), { model: body.model, response: "", done: true }]);
      }
      if (body.tools !== undefined && state.toolsMode === "reject") return Response.json({ error: "tools are not supported by this server" }, { status: 400 });
      if (body.messages?.some((m: any) => typeof m.content !== "string"))
        return Response.json({ detail: [{ loc: ["body", "messages"], msg: "content must be a string", type: "type_error.str" }] }, { status: 422 });
      const reply = state.reply(body);
      if (reply.status) return Response.json({ error: reply.error ?? "error" }, { status: reply.status });
      // No tools: whatever the script says, only text goes out.
      const textOnly: ChatReply = { ...reply, items: reply.items.filter((i) => "text" in i) };
      const lines = chatLines(body.model, textOnly, { counts: false });
      if (!stream) return Response.json(lines.at(-2) ? { ...lines.at(-1), message: { role: "assistant", content: textOnly.items.map((i) => ("text" in i ? i.text : "")).join("") } } : lines.at(-1));
      return ndjson(lines, reply.pieceDelayMs, req.signal);
    },
  );
  return state;
}
