/**
 * A tiny Anthropic-speaking upstream whose behaviour a test can switch at run time: it counts
 * hits and concurrent requests, and can answer slowly, fail with a status, or stall.
 */
import { anthropicText, serve, type Served } from "./base.ts";

export interface Counting extends Served {
  hits: number;
  active: number;
  maxActive: number;
  /** Per-request behaviour; return a Response to short-circuit. */
  mode: { status?: number; body?: string; delayMs?: number; text?: string; headers?: Record<string, string>; /** answer only once this settles */ hold?: Promise<unknown> };
}

export function startCounting(name = "up"): Counting {
  const state: Counting = serve<Counting>({ hits: 0, active: 0, maxActive: 0, mode: {} }, async (req, url) => {
    const path = url.pathname;
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
      if (m.hold) await m.hold;
      if (m.status) return new Response(m.body ?? JSON.stringify({ type: "error", error: { type: "api_error", message: `${name} failed` } }), { status: m.status, headers: { "content-type": "application/json", ...m.headers } });
      const { message, frames } = anthropicText("msg_1", body.model, m.text ?? `served by ${name}`, { input_tokens: 3, output_tokens: 4 });
      if (!body.stream) return Response.json(message);
      return new Response(frames.join(""), { headers: { "content-type": "text/event-stream" } });
    } finally {
      state.active--;
    }
  });
  return state;
}
