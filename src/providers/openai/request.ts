/**
 * Anthropic Messages request → OpenAI chat-completions request (pure). Every field Claude Code
 * sends (DESIGN §4.2) is mapped or dropped here on purpose; see the notes at each decision.
 */
import type { MessagesRequest } from "../../anthropic/schema.ts";
import type { ChatMessage, ChatRequest, ContentPart, FunctionTool, ToolCall, ToolChoice } from "./types.ts";

type Block = { type: string; [k: string]: unknown };
type ToolsMode = "native" | "prompt" | "none";

export interface RequestOptions {
  /** The provider's `tools` setting: "none" sends no tools and flattens tool history to text. */
  tools?: ToolsMode;
}

// Claude Code's first system block is billing metadata for Anthropic, not an instruction.
const BILLING_HEADER = /^x-anthropic-billing-header:/;

/** Join text blocks with blank lines; mlx_lm.server and Ollama join them with nothing at all. */
function joinText(blocks: Block[]): string {
  return blocks
    .filter((b) => b.type === "text" && typeof b.text === "string")
    .map((b) => b.text as string)
    .join("\n\n");
}

export function systemText(system: MessagesRequest["system"]): string {
  if (system === undefined) return "";
  if (typeof system === "string") return system;
  return joinText((system as Block[]).filter((b) => !(typeof b.text === "string" && BILLING_HEADER.test(b.text))));
}

function imageUrl(block: Block): string | undefined {
  const source = block.source as { type?: string; media_type?: string; data?: string; url?: string } | undefined;
  if (source?.type === "base64" && source.data) return `data:${source.media_type ?? "image/png"};base64,${source.data}`;
  if (source?.type === "url" && source.url) return source.url;
  return undefined;
}

/** A document block becomes its text when it has one; otherwise the model is told it was left out. */
function documentText(block: Block): string {
  const source = block.source as { type?: string; data?: string; media_type?: string } | undefined;
  if (source?.type === "text" && typeof source.data === "string") return source.data;
  return `[a ${source?.media_type ?? "document"} attachment was left out: this server cannot read it]`;
}

/** tool_result content as the text of a `role: tool` message; `is_error` stays visible. */
export function toolResultText(block: Block): string {
  const content = block.content as string | Block[] | undefined;
  let text = "";
  if (typeof content === "string") text = content;
  else if (Array.isArray(content)) {
    text = content
      .map((b) =>
        b.type === "text" ? String(b.text ?? "") : b.type === "image" ? "[image left out: tool messages carry text only]" : b.type === "document" ? documentText(b) : "",
      )
      .filter((t) => t !== "")
      .join("\n");
  }
  return block.is_error === true ? (text ? `Error: ${text}` : "Error") : text;
}

function userContent(parts: ContentPart[]): string | ContentPart[] {
  // Text-only content goes as one string: mlx_lm.server concatenates text parts with no
  // separator, and some servers accept nothing but strings.
  if (parts.every((p) => p.type === "text")) return parts.map((p) => (p as { text: string }).text).join("\n\n");
  return parts;
}

function convertUser(content: string | Block[], native: boolean): ChatMessage[] {
  if (typeof content === "string") return [{ role: "user", content }];
  const tools: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  for (const b of content) {
    if (b.type === "text" && typeof b.text === "string") parts.push({ type: "text", text: b.text });
    else if (b.type === "image") {
      const url = imageUrl(b);
      if (url) parts.push({ type: "image_url", image_url: { url } });
    } else if (b.type === "document") parts.push({ type: "text", text: documentText(b) });
    else if (b.type === "tool_result") {
      const id = String(b.tool_use_id ?? "");
      // OpenAI wants tool messages right after the assistant's tool_calls, so they go first.
      if (native) tools.push({ role: "tool", tool_call_id: id, content: toolResultText(b) });
      else parts.push({ type: "text", text: `[result of tool call ${id}]\n${toolResultText(b)}` });
    }
    // thinking, redacted_thinking, tool_reference, … carry nothing a chat server can use.
  }
  return parts.length ? [...tools, { role: "user", content: userContent(parts) }] : tools;
}

function convertAssistant(content: string | Block[], native: boolean): ChatMessage {
  if (typeof content === "string") return { role: "assistant", content };
  const texts: string[] = [];
  const calls: ToolCall[] = [];
  for (const b of content) {
    if (b.type === "text" && typeof b.text === "string") texts.push(b.text);
    else if (b.type === "tool_use") {
      // mlx_lm.server json.loads() the arguments of history tool calls: always valid JSON.
      const args = JSON.stringify(b.input ?? {});
      if (native) calls.push({ id: String(b.id ?? ""), type: "function", function: { name: String(b.name ?? ""), arguments: args } });
      else texts.push(`[called tool ${String(b.name ?? "")} (${String(b.id ?? "")}) with ${args}]`);
    }
    // Thinking blocks are dropped: their signatures mean nothing to a local server, and
    // chat templates that re-insert reasoning expect their own format.
  }
  // "" rather than null: some chat templates concatenate content without a None check.
  const msg: ChatMessage = { role: "assistant", content: texts.join("\n\n") };
  if (calls.length) msg.tool_calls = calls;
  return msg;
}

export function convertMessages(req: MessagesRequest, native: boolean): ChatMessage[] {
  const out: ChatMessage[] = [];
  const system = systemText(req.system);
  if (system) out.push({ role: "system", content: system });
  for (const m of req.messages) {
    const content = m.content as string | Block[];
    if (m.role === "system") {
      // Kept where Claude Code put it (as Ollama does): moving it would change the prompt prefix
      // and defeat mlx_lm.server's prompt cache on every turn.
      const text = typeof content === "string" ? content : joinText(content);
      if (text) out.push({ role: "system", content: text });
    } else if (m.role === "user") out.push(...convertUser(content, native));
    else out.push(convertAssistant(content, native));
  }
  return out;
}

/**
 * Tools: `input_schema` → `parameters`; the Anthropic-only keys (cache_control, defer_loading,
 * input_examples, …) do not exist in the new object. Tools with `defer_loading: true` are left
 * out: Anthropic hides them from the model until a tool search loads them, and local servers
 * have no tool search. Tools without a schema are Anthropic server tools (web_search_…) that
 * only Anthropic can run.
 */
export function convertTools(tools: MessagesRequest["tools"]): FunctionTool[] {
  const out: FunctionTool[] = [];
  for (const t of tools ?? []) {
    if ((t as { defer_loading?: unknown }).defer_loading === true) continue;
    if (!t.input_schema) continue;
    const fn: FunctionTool["function"] = { name: t.name, parameters: t.input_schema as Record<string, unknown> };
    if (t.description) fn.description = t.description;
    out.push({ type: "function", function: fn });
  }
  return out;
}

export function convertToolChoice(choice: MessagesRequest["tool_choice"]): ToolChoice | undefined {
  switch (choice?.type) {
    case "auto":
      return "auto";
    case "any":
      return "required";
    case "tool":
      return { type: "function", function: { name: String((choice as { name?: unknown }).name ?? "") } };
    case "none":
      return "none";
    default:
      return undefined;
  }
}

type Effort = "low" | "medium" | "high";

/**
 * `thinking` → the reasoning knobs OpenAI-compatible servers read: `reasoning_effort` (vLLM,
 * LM Studio, llama.cpp) and, to switch thinking off, the chat-template flag Qwen3-style
 * templates honour (`chat_template_kwargs.enable_thinking`, read by vLLM and mlx_lm.server).
 * `adaptive` (Claude Code's default) takes its level from `output_config.effort`.
 */
export function reasoningSettings(req: MessagesRequest): Pick<ChatRequest, "reasoning_effort" | "chat_template_kwargs"> {
  const thinking = req.thinking as { type?: string; budget_tokens?: unknown } | undefined;
  if (thinking?.type === "disabled") return { chat_template_kwargs: { enable_thinking: false } };
  if (thinking?.type === "enabled") {
    const budget = typeof thinking.budget_tokens === "number" ? thinking.budget_tokens : 8192;
    return { reasoning_effort: budget < 4096 ? "low" : budget < 16384 ? "medium" : "high" };
  }
  if (thinking?.type === "adaptive") {
    const config = (req as Record<string, unknown>).output_config as { effort?: unknown } | undefined;
    const effort = String(config?.effort ?? "medium");
    const level: Effort = effort === "low" ? "low" : effort === "medium" ? "medium" : "high";
    return { reasoning_effort: level };
  }
  return {};
}

export function toChatRequest(req: MessagesRequest, model: string, opts: RequestOptions = {}): ChatRequest {
  const native = opts.tools !== "none";
  const out: ChatRequest = {
    model,
    messages: convertMessages(req, native),
    // Always streamed, even for a non-streaming client: the gateway aggregates, and a long
    // silent generation would otherwise hit fetch's idle timeout (DESIGN §5).
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: req.max_tokens,
  };
  if (req.temperature !== undefined) out.temperature = req.temperature;
  if (req.top_p !== undefined) out.top_p = req.top_p;
  if (req.top_k !== undefined) out.top_k = req.top_k;
  if (req.stop_sequences?.length) out.stop = req.stop_sequences;
  const choice = convertToolChoice(req.tool_choice);
  const tools = native ? convertTools(req.tools) : [];
  // tool_choice "none" leaves the tools out entirely: mlx_lm.server ignores tool_choice and
  // would call them anyway.
  if (tools.length && choice !== "none") {
    out.tools = tools;
    if (choice) out.tool_choice = choice;
    if ((req.tool_choice as { disable_parallel_tool_use?: unknown } | undefined)?.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
  }
  Object.assign(out, reasoningSettings(req));
  // Not forwarded: metadata (Anthropic account data), context_management and cache_control
  // (Anthropic-side features), output_config beyond effort.
  return out;
}

export function hasImages(req: ChatRequest): boolean {
  return req.messages.some((m) => Array.isArray(m.content) && m.content.some((p) => p.type === "image_url"));
}
