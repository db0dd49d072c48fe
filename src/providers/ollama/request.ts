/**
 * Anthropic Messages request → Ollama `POST /api/chat` body (pure). Used for older Ollama and
 * for the ATRA MLX server, which speaks the same NDJSON dialect without tools.
 * Every Anthropic-only field is mapped or dropped here on purpose; see the comments per field.
 */
import { invalidRequest } from "../../anthropic/errors.ts";
import { offeredTools, outputInstruction, sourceData, structuredOutput, toolChoiceRules, withNote, type Block, type Normalised, type ResultPart } from "../../anthropic/normalise.ts";
import type { ImageBlock, MessagesRequest, ToolUseBlock } from "../../anthropic/schema.ts";
import type { Recall } from "../shared/raw-calls.ts";

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
  format?: Record<string, unknown>;
  options: Record<string, unknown>;
}

export interface ChatRequestOptions {
  /** Provider `num_ctx`: lifts Ollama's default context, which truncates long prompts silently. */
  numCtx?: number;
  /** Send `tools` (native). False drops them: the provider has none, or prompt tools handle them. */
  nativeTools: boolean;
  /** The arguments of calls the model made, as Ollama sent them. */
  recall?: Recall;
}

export function toOllamaChat(n: Normalised, model: string, opts: ChatRequestOptions): OllamaChatRequest {
  const req = n.request;
  const tools = opts.nativeTools ? toolsOf(req) : [];
  // /api/chat has no tool_choice: a forced tool is the only one sent, and the model is told.
  const format = structuredOutput(req);
  // Also told, not only constrained: servers of this dialect without `format` (the ATRA MLX
  // server) still get the schema, and Ollama's own docs advise saying it in the prompt.
  const notes = [...(tools.length ? toolChoiceRules(req.tool_choice) : []), ...(format ? [outputInstruction(format)] : [])];
  const turns = notes.length ? withNote(n.turns, notes.join("\n")) : n.turns;
  const messages: OllamaMessage[] = [];
  if (n.system.text) messages.push({ role: "system", content: n.system.text });
  for (const t of turns) {
    if (t.role === "assistant") messages.push(assistantMessage(t.content, opts.recall));
    else messages.push(...userMessages(t.content, n));
  }

  const out: OllamaChatRequest = { model, messages, stream: true, options: options(req, opts.numCtx) };
  if (tools.length) out.tools = tools;
  // Ollama constrains decoding to a JSON schema given as `format`.
  if (format) out.format = format.schema;
  const think = thinkOf(req);
  if (think !== undefined) out.think = think;
  return out;
}

function textOf(blocks: Array<Block | ResultPart>): string {
  return blocks
    .map((b) => (b.type === "text" ? b.text : b.type === "document" ? sourceData(b.source, "text") : undefined))
    .filter((t): t is string => t !== undefined)
    .join("\n\n");
}

function imageOf(b: ImageBlock): string {
  // /api/chat takes raw base64 only; a URL would need atrad to fetch it, which it doesn't do.
  const data = sourceData(b.source, "base64");
  if (data === undefined) throw invalidRequest("ollama kind: images must be base64 (URL images are not supported by /api/chat)");
  return data;
}

const images = (bs: Array<Block | ResultPart>) => bs.filter((b): b is ImageBlock => b.type === "image").map(imageOf);

function assistantMessage(blocks: Block[], recall: Recall | undefined): OllamaMessage {
  const msg: OllamaMessage = { role: "assistant", content: textOf(blocks) };
  const thinking = blocks.flatMap((b) => (b.type === "thinking" && b.thinking ? [b.thinking] : []));
  if (thinking.length) msg.thinking = thinking.join("\n\n");
  const calls = blocks.filter((b) => b.type === "tool_use");
  // Arguments in the key order the model wrote them (Claude Code reorders Edit's), so the
  // template renders the model's own turn as it was: a prefix-cache hit.
  const args = (b: ToolUseBlock) => {
    const raw = recall?.(b.id, b.input);
    return raw === undefined ? b.input : (JSON.parse(raw) as Record<string, unknown>);
  };
  if (calls.length) msg.tool_calls = calls.map((b) => ({ id: b.id, function: { name: b.name, arguments: args(b) } }));
  return msg;
}

/** Tool results go first, as `role: tool` messages, then the user's own text and images. */
function userMessages(blocks: Block[], n: Normalised): OllamaMessage[] {
  const out: OllamaMessage[] = [];
  const rest: Block[] = [];
  for (const b of blocks) {
    if (b.type !== "tool_result") {
      rest.push(b);
      continue;
    }
    let content = textOf(b.content);
    // Anthropic's is_error has no /api/chat field: say it in the text so the model sees it.
    if (b.is_error) content = `Error: ${content}`;
    const msg: OllamaMessage = { role: "tool", content };
    const name = n.toolCalls.get(b.tool_use_id)?.name;
    if (name) msg.tool_name = name;
    const imgs = images(b.content);
    if (imgs.length) msg.images = imgs;
    out.push(msg);
  }
  const imgs = images(rest);
  const text = textOf(rest);
  if (text || imgs.length || !out.length) {
    const msg: OllamaMessage = { role: "user", content: text };
    if (imgs.length) msg.images = imgs;
    out.push(msg);
  }
  return out;
}

function toolsOf(req: MessagesRequest): NonNullable<OllamaChatRequest["tools"]> {
  // A deferred tool's schema is not loaded until ToolSearch selects it (Anthropic semantics):
  // leaving it out also keeps a small model's prompt short.
  const forced = req.tool_choice?.type === "tool" ? (req.tool_choice as { name?: unknown }).name : undefined;
  return offeredTools(req)
    .filter((t) => t.input_schema && (forced === undefined || t.name === forced))
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
  // stop_sequences stay with atrad, which cuts the text itself: Ollama strips the string and
  // says only done_reason "stop", so nobody could tell which one matched (shared/stop.ts).
  if (numCtx) o.num_ctx = numCtx;
  return o;
}
