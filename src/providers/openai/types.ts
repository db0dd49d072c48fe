/**
 * The OpenAI chat-completions wire shapes atrad sends and reads. Only what we
 * use; servers differ (mlx_lm.server, vLLM, LM Studio, llama.cpp), so reads are defensive.
 */

export type ContentPart = { type: "text"; text: string } | { type: "image_url"; image_url: { url: string } };

export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export type ChatMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string | ContentPart[] }
  | { role: "assistant"; content: string; tool_calls?: ToolCall[] }
  | { role: "tool"; tool_call_id: string; content: string };

export interface FunctionTool {
  type: "function";
  function: { name: string; description?: string; parameters: Record<string, unknown> };
}

export type ToolChoice = "auto" | "required" | "none" | { type: "function"; function: { name: string } };

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream: true;
  stream_options: { include_usage: true };
  max_tokens: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop?: string[];
  tools?: FunctionTool[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  reasoning_effort?: "low" | "medium" | "high";
  chat_template_kwargs?: Record<string, unknown>;
  response_format?: { type: "json_schema"; json_schema: { name: string; schema: Record<string, unknown>; strict?: boolean } };
}

/** One streamed tool-call fragment: whole (mlx_lm.server) or a piece (vLLM, LM Studio). */
export interface ToolCallDelta {
  index?: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: unknown };
}

export interface ChunkDelta {
  role?: string;
  content?: string | null;
  reasoning?: string | null;
  reasoning_content?: string | null;
  tool_calls?: ToolCallDelta[] | null;
}

export interface ChunkChoice {
  index?: number;
  delta?: ChunkDelta;
  /** A non-streaming completion's message, read through the same path. */
  message?: ChunkDelta;
  finish_reason?: string | null;
  /** vLLM: the stop string (or token id) that ended generation. */
  stop_reason?: string | number | null;
}

export interface ChunkUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

export interface ChatChunk {
  id?: string;
  object?: string;
  choices?: ChunkChoice[];
  usage?: ChunkUsage | null;
  /** llama.cpp: `cache_n` prompt tokens read from the slot's cache, `prompt_n` evaluated. */
  timings?: { cache_n?: number; prompt_n?: number } | null;
  error?: unknown;
}
