/**
 * What one request leaves behind for the request log, metrics and status (DESIGN §6):
 * routing facts, timings and token counts — never prompt text, never credentials.
 */
import type { StreamEvent } from "../anthropic/types.ts";

export interface RequestRecord {
  time: string;
  request_id: string;
  session_id: string | null;
  model: string;
  target: string | null;
  provider: string | null;
  fallbacks: Array<{ target: string; reason: string }>;
  status: number;
  stream: boolean;
  ttft_ms: number | null;
  total_ms: number;
  input_tokens: number | null;
  output_tokens: number | null;
  stop_reason: string | null;
  error_type: string | null;
  client_aborted: boolean;
}

export type Observer = (record: RequestRecord) => void;

/** Accumulates a record while a response streams. */
export class RecordBuilder {
  readonly started = performance.now();
  readonly record: RequestRecord;

  constructor(requestId: string, sessionId: string | null, model: string, stream: boolean) {
    this.record = {
      time: new Date().toISOString(),
      request_id: requestId,
      session_id: sessionId,
      model,
      target: null,
      provider: null,
      fallbacks: [],
      status: 0,
      stream,
      ttft_ms: null,
      total_ms: 0,
      input_tokens: null,
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
        break;
      case "content_block_start":
      case "content_block_delta":
        r.ttft_ms ??= Math.round(performance.now() - this.started);
        break;
      case "message_delta":
        if (event.delta.stop_reason) r.stop_reason = event.delta.stop_reason;
        if (typeof event.usage?.output_tokens === "number") r.output_tokens = event.usage.output_tokens;
        if (typeof event.usage?.input_tokens === "number") r.input_tokens = event.usage.input_tokens;
        break;
      case "error":
        r.error_type = event.error.type;
        break;
    }
  }

  finish(status: number, clientAborted = false): RequestRecord {
    this.record.status = status;
    this.record.client_aborted = clientAborted;
    this.record.total_ms = Math.round(performance.now() - this.started);
    return this.record;
  }
}
