/**
 * Anthropic → Anthropic-compatible upstream (Ollama ≥ 0.14 first of all): pure request and
 * event conversion. Everything not listed here passes through untouched (DESIGN §4.1).
 */
import type { MessagesRequest } from "../../anthropic/schema.ts";
import { withRawJson } from "../../anthropic/sse.ts";
import type { StreamEvent } from "../../anthropic/types.ts";

/**
 * Rewrite the model and join a block-array `system` into one string with blank lines: Ollama
 * keeps only text blocks and concatenates them with no separator (DESIGN §4.8), so Claude
 * Code's several system blocks would otherwise run into one another mid-sentence.
 */
export function toUpstreamRequest(req: MessagesRequest, model: string): MessagesRequest {
  const out: MessagesRequest = { ...req, model };
  if (Array.isArray(req.system)) {
    out.system = (req.system as Array<{ type: string; text?: unknown }>)
      .filter((b) => b.type === "text" && typeof b.text === "string")
      .map((b) => b.text as string)
      .join("\n\n");
  }
  return out;
}

/** Which client headers an Anthropic upstream must see: every `anthropic-*` one (betas!). */
export function forwardedHeaders(client: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  client.forEach((value, key) => {
    if (key.startsWith("anthropic-")) out[key] = value;
  });
  out["anthropic-version"] ??= "2023-06-01";
  return out;
}

/** One upstream SSE message → an Anthropic event (unknown event types pass through). */
export function fromUpstreamEvent(event: string | undefined, data: string): StreamEvent | undefined {
  if (!data) return undefined;
  const parsed = JSON.parse(data) as StreamEvent;
  // Only objects are events: a bare array or number would reach the client as a broken frame.
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return undefined;
  if (typeof parsed.type === "string") return withRawJson(parsed, data);
  // No type in the data: take the SSE event name, and serialise afresh (the raw JSON lacks it).
  if (!event) return undefined;
  (parsed as { type: string }).type = event;
  return parsed;
}
