/**
 * Anthropic Messages request → Ollama `POST /api/chat` body (pure). Used for older Ollama and
 * for the ATRA MLX server (DESIGN §4.4), which speaks the same NDJSON dialect without tools.
 * Every Anthropic-only field is mapped or dropped here on purpose; see the comments per field.
 */
import { invalidRequest } from "../../anthropic/errors.ts";
import type { MessagesRequest } from "../../anthropic/schema.ts";

export interface OllamaToolCall {
  id?: string;
  function: { name: string; arguments: Record<string, unknown> };
}

export interface OllamaMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  images?: string[];
  thinking?: string;
  tool_calls?: OllamaToolCall[];
  /** Which tool a `role: tool` message answers (Ollama ≥ 0.9 reads it; older ones ignore it). */
  tool_name?: string;
}

export interface OllamaChatRequest {
  model: string;
  messages: OllamaMessage[];
  stream: true;
  tools?: Array<{ type: "function"; function: { name: string; description?: string; parameters: unknown } }>;
  think?: boolean;
  options: Record<string, unknown>;
}

export interface ChatRequestOptions {
  /** Provider `num_ctx`: lifts Ollama's default context, which truncates long prompts silently. */
  numCtx?: number;
  /** Send `tools` (native). False drops them: the provider has none, or prompt tools handle them. */
  nativeTools: boolean;
}

type Block = { type: string; [k: string]: any };

/**
 * Claude Code's first system block is a billing header (`x-anthropic-billing-header: …`): it
 * means nothing to a local model and costs its attention, so it is dropped.
 */
const BILLING = /^x-anthropic-billing-header:/;

export function systemText(system: MessagesRequest["system"]): string {
  if (system === undefined) return "";
  if (typeof system === "string") return system;
  return (system as Block[])
    .filter((b) => b.type === "text" && typeof b.text === "string" && !BILLING.test(b.text))
    .map((b) => b.text as string)
    .join("\n\n");
}

export function toOllamaChat(req: MessagesRequest, model: string, opts: ChatRequestOptions): OllamaChatRequest {
  const messages: OllamaMessage[] = [];
  const sys = systemText(req.system);
  if (sys) messages.push({ role: "system", content: sys });

  // tool_result blocks name only the tool_use id; Ollama wants the tool's name.
  const toolNames = new Map<string, string>();
  for (const m of req.messages) {
    if (m.role !== "assistant" || typeof m.content === "string") continue;
    for (const b of m.content as Block[]) if (b.type === "tool_use") toolNames.set(String(b.id), String(b.name));
  }

  for (const m of req.messages) {
    if (typeof m.content === "string") {
      messages.push({ role: m.role, content: m.content });
      continue;
    }
    const blocks = m.content as Block[];
    if (m.role === "assistant") messages.push(assistantMessage(blocks));
    else if (m.role === "system") messages.push({ role: "system", content: textOf(blocks) });
    else messages.push(...userMessages(blocks, toolNames));
  }

  const out: OllamaChatRequest = { model, messages, stream: true, options: options(req, opts.numCtx) };
  const tools = opts.nativeTools && req.tool_choice?.type !== "none" ? toolsOf(req) : [];
  if (tools.length) out.tools = tools;
  const think = thinkOf(req);
  if (think !== undefined) out.think = think;
  return out;
}

function textOf(blocks: Block[]): string {
  return blocks
    .map((b) => (b.type === "text" ? String(b.text ?? "") : b.type === "document" && b.source?.type === "text" ? String(b.source.data ?? "") : undefined))
    .filter((t): t is string => t !== undefined)
    .join("\n\n");
}

function imageOf(b: Block): string {
  // /api/chat takes raw base64 only; a URL would need atrad to fetch it, which it doesn't do.
  if (b.source?.type !== "base64") throw invalidRequest("ollama kind: images must be base64 (URL images are not supported by /api/chat)");
  return String(b.source.data);
}

function assistantMessage(blocks: Block[]): OllamaMessage {
  const msg: OllamaMessage = { role: "assistant", content: textOf(blocks) };
  const thinking = blocks.filter((b) => b.type === "thinking" && b.thinking).map((b) => String(b.thinking));
  if (thinking.length) msg.thinking = thinking.join("\n\n");
  const calls = blocks.filter((b) => b.type === "tool_use");
  if (calls.length) {
    msg.tool_calls = calls.map((b) => ({
      id: String(b.id),
      function: { name: String(b.name), arguments: isObject(b.input) ? b.input : {} },
    }));
  }
  return msg;
}

/** Tool results go first, as `role: tool` messages, then the user's own text and images. */
function userMessages(blocks: Block[], toolNames: Map<string, string>): OllamaMessage[] {
  const out: OllamaMessage[] = [];
  const rest: Block[] = [];
  for (const b of blocks) {
    if (b.type !== "tool_result") {
      rest.push(b);
      continue;
    }
    const parts: Block[] = typeof b.content === "string" ? [{ type: "text", text: b.content }] : ((b.content ?? []) as Block[]);
    let content = textOf(parts);
    // Anthropic's is_error has no /api/chat field: say it in the text so the model sees it.
    if (b.is_error) content = `Error: ${content}`;
    const msg: OllamaMessage = { role: "tool", content };
    const name = toolNames.get(String(b.tool_use_id));
    if (name) msg.tool_name = name;
    const images = parts.filter((p) => p.type === "image").map(imageOf);
    if (images.length) msg.images = images;
    out.push(msg);
  }
  const images = rest.filter((b) => b.type === "image").map(imageOf);
  const text = textOf(rest);
  if (text || images.length || !out.length) {
    const msg: OllamaMessage = { role: "user", content: text };
    if (images.length) msg.images = images;
    out.push(msg);
  }
  return out;
}

function toolsOf(req: MessagesRequest): NonNullable<OllamaChatRequest["tools"]> {
  return (req.tools ?? [])
    // A deferred tool's schema is not loaded until ToolSearch selects it (Anthropic semantics):
    // leaving it out also keeps a small model's prompt short.
    .filter((t) => (t as Record<string, unknown>).defer_loading !== true && t.input_schema)
    .map((t) => ({
      type: "function" as const,
      function: { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.input_schema },
    }));
}

/**
 * `enabled`/`disabled` are explicit. Claude Code sends `adaptive`; sending `think: true` to a
 * model without thinking support is a 400 from Ollama, so adaptive leaves the model's default.
 */
function thinkOf(req: MessagesRequest): boolean | undefined {
  const t = req.thinking?.type;
  if (t === "enabled") return true;
  if (t === "disabled") return false;
  return undefined;
}

function options(req: MessagesRequest, numCtx: number | undefined): Record<string, unknown> {
  const o: Record<string, unknown> = { num_predict: req.max_tokens };
  if (req.temperature !== undefined) o.temperature = req.temperature;
  if (req.top_p !== undefined) o.top_p = req.top_p;
  if (req.top_k !== undefined) o.top_k = req.top_k;
  if (req.stop_sequences?.length) o.stop = req.stop_sequences;
  if (numCtx) o.num_ctx = numCtx;
  return o;
}

export function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}
