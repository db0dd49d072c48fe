/**
 * Anthropic Messages response and stream shapes. Every adapter, whatever its
 * upstream speaks, produces a stream of these events; one SSE writer serialises them and one
 * aggregator folds them into a non-streaming Message.
 */
import type { TextBlock, ToolUseBlock } from "./schema.ts";

export type StopReason =
  | "end_turn"
  | "max_tokens"
  | "stop_sequence"
  | "tool_use"
  | "pause_turn"
  | "refusal";

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  [k: string]: unknown;
}

/** Clients' types declare a thinking block's signature a string: it is "" when the backend has none. */
export interface ResponseThinkingBlock { type: "thinking"; thinking: string; signature: string; [k: string]: unknown }

/** A response content block as it appears in `content_block_start`. */
export type ResponseBlock = TextBlock | ResponseThinkingBlock | ToolUseBlock | { type: string; [k: string]: unknown };

export interface Message {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: ResponseBlock[];
  stop_reason: StopReason | null;
  stop_sequence: string | null;
  usage: Usage;
  [k: string]: unknown;
}

export type Delta =
  | { type: "text_delta"; text: string }
  | { type: "input_json_delta"; partial_json: string }
  | { type: "thinking_delta"; thinking: string }
  | { type: "signature_delta"; signature: string }
  | { type: string; [k: string]: unknown };

export type StreamEvent =
  | { type: "message_start"; message: Message }
  | { type: "content_block_start"; index: number; content_block: ResponseBlock }
  | { type: "content_block_delta"; index: number; delta: Delta }
  | { type: "content_block_stop"; index: number }
  | {
      type: "message_delta";
      delta: { stop_reason?: StopReason | null; stop_sequence?: string | null; [k: string]: unknown };
      usage?: Partial<Usage>;
      [k: string]: unknown;
    }
  | { type: "message_stop"; [k: string]: unknown }
  | { type: "ping" }
  | { type: "error"; error: { type: string; message: string } };

export function newMessageId(): string {
  return `msg_${crypto.randomUUID().replaceAll("-", "")}`;
}

export function emptyMessage(model: string, id = newMessageId(), inputTokens = 0): Message {
  return {
    id,
    type: "message",
    role: "assistant",
    model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: inputTokens, output_tokens: 0 },
  };
}
