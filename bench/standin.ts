/**
 * The bench's upstream: one process answering all three kinds with pre-encoded bodies, so it is
 * never the bottleneck. The number of deltas comes from the model name: `m` → 20 deltas (the
 * issue's shape), `m-10000` → 10,000; `slow-N-MS` → N deltas, one every MS milliseconds (kept
 * open for the memory phase).
 *   bun bench/standin.ts PORT      (prints "ready" when listening)
 */
const port = Number(process.argv[2] ?? 0);
const enc = new TextEncoder();
const cache = new Map<string, Uint8Array[]>();

/** Pull `"model":"…"` out of the body without parsing it (the body is ours, small and flat at the front). */
function modelOf(text: string): string {
  const i = text.indexOf('"model"');
  if (i < 0) return "m";
  const start = text.indexOf('"', text.indexOf(":", i) + 1) + 1;
  return text.slice(start, text.indexOf('"', start));
}

function deltasOf(model: string): { n: number; delayMs: number } {
  const slow = /^slow-(\d+)-(\d+)$/.exec(model);
  if (slow) return { n: Number(slow[1]), delayMs: Number(slow[2]) };
  const m = /-(\d+)$/.exec(model);
  return { n: m ? Number(m[1]) : 20, delayMs: 0 };
}

const PIECE = "hello ";

function anthropicSse(model: string, n: number): string[] {
  const ev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const out = [
    ev("message_start", { message: { id: "msg_bench", type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 0 } } }),
    ev("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
  ];
  for (let i = 0; i < n; i++) out.push(ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: PIECE } }));
  out.push(ev("content_block_stop", { index: 0 }), ev("message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: n } }), ev("message_stop", {}));
  return out;
}

function anthropicJson(model: string, n: number): string {
  return JSON.stringify({ id: "msg_bench", type: "message", role: "assistant", model, content: [{ type: "text", text: PIECE.repeat(n) }], stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: 10, output_tokens: n } });
}

function openaiSse(model: string, n: number): string[] {
  const base = { id: "chatcmpl-bench", object: "chat.completion.chunk", created: 1700000000, model };
  const out = [`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] })}\n\n`];
  for (let i = 0; i < n; i++) out.push(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { content: PIECE }, finish_reason: null }] })}\n\n`);
  out.push(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage: { prompt_tokens: 10, completion_tokens: n, total_tokens: 10 + n } })}\n\n`, "data: [DONE]\n\n");
  return out;
}

function openaiJson(model: string, n: number): string {
  return JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion", created: 1700000000, model, choices: [{ index: 0, message: { role: "assistant", content: PIECE.repeat(n) }, finish_reason: "stop" }], usage: { prompt_tokens: 10, completion_tokens: n, total_tokens: 10 + n } });
}

function ollamaNdjson(model: string, n: number): string[] {
  const at = "2026-01-01T00:00:00Z";
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(JSON.stringify({ model, created_at: at, message: { role: "assistant", content: PIECE }, done: false }) + "\n");
  out.push(JSON.stringify({ model, created_at: at, message: { role: "assistant", content: "" }, done: true, done_reason: "stop", prompt_eval_count: 10, eval_count: n }) + "\n");
  return out;
}

function pieces(key: string, make: () => string[]): Uint8Array[] {
  let p = cache.get(key);
  if (!p) {
    const parts = make();
    // Instant answers go out as one buffer; slow ones piece by piece.
    p = key.startsWith("slow") ? parts.map((s) => enc.encode(s)) : [enc.encode(parts.join(""))];
    cache.set(key, p);
  }
  return p;
}

function answer(parts: Uint8Array[], contentType: string, delayMs: number): Response {
  if (!delayMs) return new Response(parts[0] as Uint8Array<ArrayBuffer>, { headers: { "content-type": contentType } });
  let i = 0;
  return new Response(
    new ReadableStream<Uint8Array>({
      async pull(c) {
        if (i >= parts.length) return c.close();
        if (i > 0) await Bun.sleep(delayMs);
        c.enqueue(parts[i++]!);
      },
    }),
    { headers: { "content-type": contentType } },
  );
}

const SSE = "text/event-stream";
const JSON_CT = "application/json";

const server = Bun.serve({
  hostname: "127.0.0.1",
  port,
  idleTimeout: 0,
  async fetch(req) {
    const path = req.url.slice(req.url.indexOf("/", 8));
    if (req.method === "GET") {
      if (path.startsWith("/v1/models")) return Response.json({ object: "list", data: [{ id: "m", object: "model" }] });
      if (path.startsWith("/api/tags")) return Response.json({ models: [{ name: "m", model: "m" }] });
      return new Response("ok");
    }
    const text = await req.text();
    const model = modelOf(text);
    // Anthropic and OpenAI default to a whole body, Ollama's /api/chat to NDJSON.
    const stream = text.includes('"stream":true');
    const { n, delayMs } = deltasOf(model);
    const key = `${delayMs ? "slow" : ""}:${path}:${stream}:${model}`;
    if (path.startsWith("/v1/messages")) {
      if (!stream) return answer(pieces(key, () => [anthropicJson(model, n)]), JSON_CT, 0);
      return answer(pieces(key, () => anthropicSse(model, n)), SSE, delayMs);
    }
    if (path.startsWith("/v1/chat/completions")) {
      if (!stream) return answer(pieces(key, () => [openaiJson(model, n)]), JSON_CT, 0);
      return answer(pieces(key, () => openaiSse(model, n)), SSE, delayMs);
    }
    if (path.startsWith("/api/chat")) return answer(pieces(key, () => ollamaNdjson(model, n)), "application/x-ndjson", delayMs);
    return new Response("not found", { status: 404 });
  },
});
console.log(`ready ${server.port}`);
