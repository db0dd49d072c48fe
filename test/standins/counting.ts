/**
 * A tiny Anthropic-speaking upstream whose behaviour a test can switch at run time: it counts
 * hits and concurrent requests, and can answer slowly, fail with a status, or stall.
 */
import type { Server } from "bun";

export interface Counting {
  url: string;
  hits: number;
  active: number;
  maxActive: number;
  /** Per-request behaviour; return a Response to short-circuit. */
  mode: { status?: number; body?: string; delayMs?: number; text?: string; headers?: Record<string, string> };
  stop(): Promise<void>;
}

export function startCounting(name = "up"): Counting {
  const state: Counting = { url: "", hits: 0, active: 0, maxActive: 0, mode: {}, stop: async () => {} };
  const server: Server<unknown> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/v1/models") return Response.json({ object: "list", data: [{ id: "m", object: "model" }] });
      // Like Anthropic's API: other servers' routes (Ollama's /api/ps, llama.cpp's /props) are not here.
      if (path.startsWith("/api/") || path === "/props") return new Response("not found", { status: 404 });
      state.hits++;
      state.active++;
      state.maxActive = Math.max(state.maxActive, state.active);
      try {
        const body = (await req.json()) as { model: string; stream?: boolean };
        const m = state.mode;
        if (m.delayMs) await Bun.sleep(m.delayMs);
        if (m.status) return new Response(m.body ?? JSON.stringify({ type: "error", error: { type: "api_error", message: `${name} failed` } }), { status: m.status, headers: { "content-type": "application/json", ...m.headers } });
        const message = {
          id: "msg_1",
          type: "message",
          role: "assistant",
          model: body.model,
          content: [{ type: "text", text: m.text ?? `served by ${name}` }],
          stop_reason: "end_turn",
          stop_sequence: null,
          usage: { input_tokens: 3, output_tokens: 4 },
        };
        if (!body.stream) return Response.json(message);
        const frames = [
          ["message_start", { type: "message_start", message: { ...message, content: [], stop_reason: null } }],
          ["content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }],
          ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: message.content[0]!.text } }],
          ["content_block_stop", { type: "content_block_stop", index: 0 }],
          ["message_delta", { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 4 } }],
          ["message_stop", { type: "message_stop" }],
        ];
        return new Response(frames.map(([e, d]) => `event: ${e}\ndata: ${JSON.stringify(d)}\n\n`).join(""), { headers: { "content-type": "text/event-stream" } });
      } finally {
        state.active--;
      }
    },
  });
  state.url = `http://127.0.0.1:${server.port}`;
  state.stop = () => server.stop(true);
  return state;
}
