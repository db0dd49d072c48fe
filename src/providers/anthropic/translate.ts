/**
 * Anthropic → Anthropic-compatible upstream (Ollama ≥ 0.14 first of all): pure request and
 * event conversion. Everything not listed here passes through untouched, unknown body fields
 * and `anthropic-*` headers included (a beta header without its body field gives a 400).
 */
import { BILLING_HEADER, notesInPlace, type Normalised } from "../../anthropic/normalise.ts";
import type { MessagesRequest, TextBlock } from "../../anthropic/schema.ts";
import { withRawJson } from "../../anthropic/sse.ts";
import { withSignature } from "../../anthropic/stream.ts";
import type { StreamEvent } from "../../anthropic/types.ts";

/**
 * Rewrite the model, and keep the `system` array's shape (cache_control marks, the billing
 * block at system[0] that Anthropic's hosts read) with two changes: the billing block loses its
 * per-request fields (see normalise), and every text block after the first starts with a blank
 * line. Ollama keeps only the text blocks and concatenates them with no separator, so Claude
 * Code's several system blocks would otherwise run into one another mid-sentence.
 */
// Only the request and its system-prompt policy: the turns and tool index normalise builds are
// not needed to relay Anthropic to Anthropic, so the adapter does not build them per request.
export function toUpstreamRequest(n: Pick<Normalised, "request" | "system">, model: string): MessagesRequest {
  const req = n.request;
  // Mid-conversation `system` messages become <system-reminder> user text where they stand
  // (see normalise): Ollama's template would move them to the front, before the tools, and so
  // re-prefill the whole prompt on every note Claude Code adds.
  const out: MessagesRequest = { ...req, model, messages: notesInPlace(req.messages) };
  if (Array.isArray(req.system)) {
    let texts = 0;
    out.system = req.system.map((b) => {
      if (b.type !== "text") return b;
      const text = (b as TextBlock).text;
      if (texts++ === 0) return n.system.billing !== undefined && BILLING_HEADER.test(text) ? { ...b, text: n.system.billing } : b;
      return text.startsWith("\n\n") ? b : { ...b, text: `\n\n${text}` };
    });
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
  if (parsed.type === "content_block_start" && parsed.content_block?.type === "thinking" && typeof parsed.content_block.signature !== "string") {
    // Ollama's thinking blocks come without a signature; clients require the field.
    return { ...parsed, content_block: withSignature(parsed.content_block) };
  }
  if (typeof parsed.type === "string") return withRawJson(parsed, data);
  // No type in the data: take the SSE event name, and serialise afresh (the raw JSON lacks it).
  if (!event) return undefined;
  (parsed as { type: string }).type = event;
  return parsed;
}
