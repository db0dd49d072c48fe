/**
 * What one request leaves behind for the request log, metrics and status:
 * routing facts, timings and token counts — never prompt text, never credentials.
 */
import type { StreamEvent } from "../anthropic/types.ts";

export interface RequestRecord {
  time: string;
  request_id: string;
  session_id: string | null;
  model: string;
  /** The kind of request (main, subagent, compaction, background); optional for older records. */
  request_class?: string;
  target: string | null;
  provider: string | null;
  fallbacks: Array<{ target: string; reason: string }>;
  status: number;
  stream: boolean;
  ttft_ms: number | null;
  total_ms: number;
  /** Prompt tokens processed anew (Anthropic's `input_tokens`: the cached part not included). */
  input_tokens: number | null;
  /**
   * Prompt tokens the backend served from its prefix cache (`cache_read_input_tokens`); null
   * when it does not say. Always written by RecordBuilder; optional for older records.
   */
  cache_read_tokens?: number | null;
  output_tokens: number | null;
  stop_reason: string | null;
  error_type: string | null;
  client_aborted: boolean;
}

export type Observer = (record: RequestRecord) => void;

/** The share of the prompt served from the backend's cache, 0…1; undefined when unknown. */
export function cacheShare(r: Pick<RequestRecord, "input_tokens" | "cache_read_tokens">): number | undefined {
  const read = r.cache_read_tokens;
  if (typeof read !== "number") return undefined;
  const prompt = read + (r.input_tokens ?? 0);
  return prompt > 0 ? read / prompt : undefined;
}

/**
 * Text a client chose (a session id, a model name) is kept at most this long: the recent
 * requests, the session map and the request log hold many records, and must stay small
 * whatever a client sends.
 */
export const MAX_FIELD = 256;
/**
 * A copy, not a slice: a slice of a string shares its parent's memory, so a kept 256-char
 * slice of a 1 MB session id would keep the whole megabyte alive.
 */
const clip = (s: string) => (s.length > MAX_FIELD ? `${Buffer.from(s.slice(0, MAX_FIELD), "utf16le").toString("utf16le")}…` : s);

/** Accumulates a record while a response streams. */
export class RecordBuilder {
  readonly started = performance.now();
  readonly record: RequestRecord;

  constructor(requestId: string, sessionId: string | null, model: string, stream: boolean, requestClass = "main") {
    this.record = {
      time: new Date().toISOString(),
      request_id: requestId,
      session_id: sessionId === null ? null : clip(sessionId),
      model: clip(model),
      request_class: requestClass,
      target: null,
      provider: null,
      fallbacks: [],
      status: 0,
      stream,
      ttft_ms: null,
      total_ms: 0,
      input_tokens: null,
      cache_read_tokens: null,
      output_tokens: null,
      stop_reason: null,
      error_type: null,
      client_aborted: false,
    };
  }

  /** The first content (or any event of a non-streaming answer) marks time to first token. */
  onEvent(event: StreamEvent) {
    const r = this.record;
    switch (event.type) {
      case "message_start":
        r.input_tokens = event.message.usage?.input_tokens ?? r.input_tokens;
        r.cache_read_tokens = event.message.usage?.cache_read_input_tokens ?? r.cache_read_tokens ?? null;
        break;
      case "content_block_start":
      case "content_block_delta":
        r.ttft_ms ??= Math.round(performance.now() - this.started);
        break;
      case "message_delta":
        if (event.delta.stop_reason) r.stop_reason = event.delta.stop_reason;
        if (typeof event.usage?.output_tokens === "number") r.output_tokens = event.usage.output_tokens;
        if (typeof event.usage?.input_tokens === "number") r.input_tokens = event.usage.input_tokens;
        if (typeof event.usage?.cache_read_input_tokens === "number") r.cache_read_tokens = event.usage.cache_read_input_tokens;
        break;
      case "error":
        r.error_type = event.error.type;
        break;
    }
  }

  /** Usage and stop reason of a whole Message relayed as it came. */
  usageFromBody(body: string) {
    try {
      const m = JSON.parse(body) as { usage?: { input_tokens?: number; cache_read_input_tokens?: number | null; output_tokens?: number }; stop_reason?: string } | null;
      this.record.input_tokens = m?.usage?.input_tokens ?? null;
      this.record.cache_read_tokens = m?.usage?.cache_read_input_tokens ?? null;
      this.record.output_tokens = m?.usage?.output_tokens ?? null;
      this.record.stop_reason = m?.stop_reason ?? null;
    } catch {}
  }

  finish(status: number, clientAborted = false): RequestRecord {
    // Upstreams name these (a model, an error type, an error text in a fallback reason).
    const r = this.record;
    if (r.target) r.target = clip(r.target);
    if (r.error_type) r.error_type = clip(r.error_type);
    if (r.stop_reason) r.stop_reason = clip(r.stop_reason);
    r.fallbacks = r.fallbacks.slice(0, 8).map((f) => ({ target: clip(f.target), reason: clip(f.reason) }));
    this.record.status = status;
    this.record.client_aborted = clientAborted;
    this.record.total_ms = Math.round(performance.now() - this.started);
    return this.record;
  }
}
