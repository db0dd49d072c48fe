/**
 * Prompt-based tools, request side (pure): for servers with no tool support (the ATRA MLX
 * server). The offered tools are described at the end of the system prompt; past
 * `tool_use` blocks become the same `<tool_call>` text the model is asked to write, and
 * `tool_result` blocks become plain user text. The format is documented in docs/prompt-tools.md.
 *
 * Why `<tool_call>{"name": …, "arguments": …}</tool_call>`: it is the Hermes/Qwen 2.5 tool
 * format, which the small models people run locally (qwen2.5, many fine-tunes) were trained on.
 */
import { callNumber, offeredTools, outputInstruction, structuredOutput, toolChoiceRules, withNote, type Block, type Normalised, type ResultPart, type ToolResult } from "../../anthropic/normalise.ts";
import type { Recall } from "../shared/raw-calls.ts";
import type { ContentBlock, MessageParam, MessagesRequest, TextBlock, Tool, ToolResultBlock } from "../../anthropic/schema.ts";

export { offeredTools };

export const CALL_OPEN = "<tool_call>";
export const CALL_CLOSE = "</tool_call>";

/** One call rendered exactly as the model is told to write it. */
export function renderCall(name: string, input: unknown): string {
  return `${CALL_OPEN}\n${JSON.stringify({ name, arguments: input ?? {} })}\n${CALL_CLOSE}`;
}

export function renderToolsPrompt(tools: Tool[], choice?: MessagesRequest["tool_choice"]): string {
  const lines = [
    "# Tools",
    "",
    "You can call the tools below. To call one, write exactly this, with the arguments as a JSON object that follows the tool's schema:",
    "",
    renderCall("tool_name", { argument: "value" }),
    "",
    "Rules:",
    "- Write nothing after your tool calls: stop and wait. The results come back in the next user message as <tool_result> blocks, in the order of your calls: call=\"1\" answers your first call, call=\"2\" your second.",
    "- Never write a <tool_result> yourself and never guess what a tool returns.",
    "- Only call tools listed here. When you need no tool, just answer in plain text.",
  ];
  for (const rule of toolChoiceRules(choice)) lines.push(`- ${rule}`);
  // Each tool sits in its own <tool> element: descriptions (Claude Code's) carry their own
  // markdown headings, which would blur the boundaries of a heading-based list.
  lines.push("", "Available tools, each with its description and the JSON schema of its arguments:", "<tools>");
  for (const t of tools) {
    lines.push(`<tool name="${t.name}">`);
    if (t.description) lines.push(t.description.trim());
    lines.push(`Arguments schema: ${JSON.stringify(compactSchema(t.input_schema ?? { type: "object" }))}`, "</tool>");
  }
  lines.push("</tools>");
  return lines.join("\n");
}

/** Drop schema keys that only cost a small model's context ($schema, additionalProperties…). */
function compactSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(compactSchema);
  if (typeof schema !== "object" || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === "$schema" || k === "additionalProperties") continue;
    out[k] = k === "properties" && v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, compactSchema(s)])) : compactSchema(v);
  }
  return out;
}

/**
 * A result names its tool and, when it answers the turn just before, the number of the call:
 * with two calls of one tool, the name alone would not say which output is whose.
 */
function toolResultText(b: ToolResult, n: Normalised, turn: number): string {
  const content = b.content.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("\n\n");
  const name = n.toolCalls.get(b.tool_use_id)?.name;
  const call = callNumber(n, turn, b.tool_use_id);
  const attrs = `${call ? ` call="${call}"` : ""}${name ? ` name="${name}"` : ""}${b.is_error ? ` error="true"` : ""}`;
  return `<tool_result${attrs}>\n${content}\n</tool_result>`;
}

/** A canonical block back in wire form, for the inner adapter. */
function wire(b: Block | ResultPart): ContentBlock {
  if (b.type === "other") return b.block;
  if (b.type === "tool_result") return { ...b, content: b.content.map(wire) as ToolResultBlock["content"] };
  return b;
}

/** The request an upstream without tool support receives: no `tools`, history as text. */
export function toPromptToolsRequest(n: Normalised, recall?: Recall): MessagesRequest {
  const req = n.request;
  const tools = offeredTools(req);
  const format = structuredOutput(req);
  // A backend constraining its output to the schema could not write a <tool_call>: with tools
  // offered, the schema travels as an instruction instead.
  const constrained = format !== undefined && tools.length > 0;
  const turns = constrained ? withNote(n.turns, outputInstruction(format)) : n.turns;
  const messages = turns.map((t, turn): MessageParam => {
    const content = t.content.flatMap((b): ContentBlock[] => {
      // The call as the model wrote it (its spacing, its key order), else as it is told to.
      if (b.type === "tool_use") return [{ type: "text", text: recall?.(b.id, b.input) ?? renderCall(b.name, b.input) }];
      if (b.type !== "tool_result") return [wire(b)];
      // Images a tool returned stay images, next to the result text (for vision models).
      const images = b.content.filter((p) => p.type === "image");
      return [{ type: "text", text: toolResultText(b, n, turn) }, ...images];
    });
    return { role: t.role, content: t.role === "assistant" ? mergeText(content) : content };
  });

  const { tools: _tools, tool_choice: _choice, system: _system, ...rest } = req;
  const out: MessagesRequest = { ...rest, messages };
  if (constrained) {
    const { format: _format, ...config } = req.output_config ?? {};
    if (Object.keys(config).length) out.output_config = config;
    else delete out.output_config;
  }
  // The catalogue closes the system prompt, which stays the same all session long: notes that
  // arrive later sit in the conversation (see normalise), so they never displace it.
  const prompt = tools.length ? renderToolsPrompt(tools, req.tool_choice) : undefined;
  if (Array.isArray(req.system)) {
    const billing: TextBlock[] = n.system.billing !== undefined ? [{ type: "text", text: n.system.billing }] : [];
    out.system = [...billing, ...n.system.blocks, ...(prompt ? [{ type: "text" as const, text: prompt }] : [])];
  } else {
    const system = [n.system.text, prompt].filter(Boolean).join("\n\n");
    if (system) out.system = system;
  }
  return out;
}

/** Adjacent text blocks of one assistant turn become one, so calls sit on their own lines. */
function mergeText(blocks: ContentBlock[]): ContentBlock[] {
  const out: ContentBlock[] = [];
  for (const b of blocks) {
    const prev = out.at(-1);
    if (b.type === "text" && prev?.type === "text") out[out.length - 1] = { type: "text", text: `${(prev as TextBlock).text}\n${(b as TextBlock).text}` };
    else out.push(b);
  }
  return out;
}
