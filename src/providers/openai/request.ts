/**
 * Anthropic Messages request → OpenAI chat-completions request (pure). Every field Claude Code
 * sends (test/fixtures/claude-code-2.1.330-request.json is a real one) is mapped or dropped here
 * on purpose; see the notes at each decision.
 */
import { mediaType, offeredTools, outputInstruction, singleToolCall, sourceData, structuredOutput, withNote, sourceUrl, type Block, type Normalised, type ToolResult } from "../../anthropic/normalise.ts";
import type { DocumentBlock, ImageBlock, MessagesRequest, Tool } from "../../anthropic/schema.ts";
import type { Recall } from "../shared/raw-calls.ts";
import type { ChatMessage, ChatRequest, ContentPart, FunctionTool, ToolCall, ToolChoice } from "./types.ts";

type ToolsMode = "native" | "prompt" | "none";

export interface RequestOptions {
  /** The provider's `tools` setting: "none" sends no tools and flattens tool history to text. */
  tools?: ToolsMode;
  /** The arguments of calls the model made, as the server sent them. */
  recall?: Recall;
}

function imageUrl(block: ImageBlock): string | undefined {
  const data = sourceData(block.source, "base64");
  if (data) return `data:${mediaType(block.source) ?? "image/png"};base64,${data}`;
  return sourceUrl(block.source) || undefined;
}

/** A document block becomes its text when it has one; otherwise the model is told it was left out. */
function documentText(block: DocumentBlock): string {
  return sourceData(block.source, "text") ?? `[a ${mediaType(block.source) ?? "document"} attachment was left out: this server cannot read it]`;
}

/** tool_result content as the text of a `role: tool` message; `is_error` stays visible. */
export function toolResultText(block: ToolResult): string {
  const text = block.content
    .map((b) => (b.type === "text" ? b.text : b.type === "image" ? "[image left out: tool messages carry text only]" : b.type === "document" ? documentText(b) : ""))
    .filter((t) => t !== "")
    .join("\n");
  return block.is_error === true ? (text ? `Error: ${text}` : "Error") : text;
}

function userContent(parts: ContentPart[]): string | ContentPart[] {
  // Text-only content goes as one string: mlx_lm.server concatenates text parts with no
  // separator, and some servers accept nothing but strings.
  if (parts.every((p) => p.type === "text")) return parts.map((p) => (p as { text: string }).text).join("\n\n");
  return parts;
}

function convertUser(content: Block[], native: boolean): ChatMessage[] {
  const tools: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  for (const b of content) {
    if (b.type === "text") parts.push({ type: "text", text: b.text });
    else if (b.type === "image") {
      const url = imageUrl(b);
      if (url) parts.push({ type: "image_url", image_url: { url } });
    } else if (b.type === "document") parts.push({ type: "text", text: documentText(b) });
    else if (b.type === "tool_result") {
      const id = b.tool_use_id;
      // OpenAI wants tool messages right after the assistant's tool_calls, so they go first.
      if (native) tools.push({ role: "tool", tool_call_id: id, content: toolResultText(b) });
      else parts.push({ type: "text", text: `[result of tool call ${id}]\n${toolResultText(b)}` });
    }
    // thinking, redacted_thinking, tool_reference, … carry nothing a chat server can use.
  }
  return parts.length ? [...tools, { role: "user", content: userContent(parts) }] : tools;
}

function convertAssistant(content: Block[], native: boolean, recall?: Recall): ChatMessage {
  const texts: string[] = [];
  const calls: ToolCall[] = [];
  for (const b of content) {
    if (b.type === "text") texts.push(b.text);
    else if (b.type === "tool_use") {
      // The arguments as the server once sent them, so the model's own turn is a prefix-cache
      // hit; else JSON (mlx_lm.server json.loads() the arguments of history tool calls).
      const args = recall?.(b.id, b.input) ?? JSON.stringify(b.input);
      if (native) calls.push({ id: b.id, type: "function", function: { name: b.name, arguments: args } });
      else texts.push(`[called tool ${b.name} (${b.id}) with ${args}]`);
    }
    // Thinking blocks are dropped: their signatures mean nothing to a local server, and
    // chat templates that re-insert reasoning expect their own format.
  }
  // "" rather than null: some chat templates concatenate content without a None check.
  const msg: ChatMessage = { role: "assistant", content: texts.join("\n\n") };
  if (calls.length) msg.tool_calls = calls;
  return msg;
}

export function convertMessages(n: Normalised, native: boolean, recall?: Recall): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (n.system.text) out.push({ role: "system", content: n.system.text });
  // A requested schema is also said at the end of the prompt: mlx_lm.server has no
  // response_format, and there the instruction is all the model gets.
  const format = structuredOutput(n.request);
  const turns = format ? withNote(n.turns, outputInstruction(format)) : n.turns;
  for (const t of turns) {
    if (t.role === "user") out.push(...convertUser(t.content, native));
    else out.push(convertAssistant(t.content, native, recall));
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
export function convertTools(tools: Tool[]): FunctionTool[] {
  const out: FunctionTool[] = [];
  for (const t of tools) {
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

export function toChatRequest(n: Normalised, model: string, opts: RequestOptions = {}): ChatRequest {
  const req = n.request;
  const native = opts.tools !== "none";
  const out: ChatRequest = {
    model,
    messages: convertMessages(n, native, opts.recall),
    // Always streamed, even for a non-streaming client: the gateway aggregates, and a long
    // silent generation would otherwise hit Bun fetch's 300 s idle timeout.
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: req.max_tokens,
  };
  if (req.temperature !== undefined) out.temperature = req.temperature;
  if (req.top_p !== undefined) out.top_p = req.top_p;
  if (req.top_k !== undefined) out.top_k = req.top_k;
  // stop_sequences stay with atrad, which cuts the text itself: mlx_lm.server would strip the
  // string and answer only "stop", so nobody could tell which one matched (shared/stop.ts).
  const choice = convertToolChoice(req.tool_choice);
  const tools = native ? convertTools(offeredTools(req)) : [];
  // tool_choice "none" leaves the tools out entirely: mlx_lm.server ignores tool_choice and
  // would call them anyway.
  if (tools.length && choice !== "none") {
    out.tools = tools;
    if (choice) out.tool_choice = choice;
    if (singleToolCall(req)) out.parallel_tool_calls = false;
  }
  Object.assign(out, reasoningSettings(req));
  // Structured output: vLLM, LM Studio and llama.cpp constrain decoding to the schema.
  const format = structuredOutput(req);
  if (format) out.response_format = { type: "json_schema", json_schema: { name: format.name ?? "output", schema: format.schema, strict: true } };
  // Not forwarded: metadata (Anthropic account data), context_management and cache_control
  // (Anthropic-side features), output_config beyond effort and format.
  return out;
}

export function hasImages(req: ChatRequest): boolean {
  return req.messages.some((m) => Array.isArray(m.content) && m.content.some((p) => p.type === "image_url"));
}
