/**
 * An incoming Messages request in the one canonical form every translator consumes (pure).
 * Each rule that used to be repeated per kind lives here once:
 * - content is always blocks (a string becomes one text block), tool results always hold an
 *   array, and block types the translators do not know are wrapped as `other`, so a switch
 *   over `type` narrows to the real shapes;
 * - the system prompt: Claude Code's billing block (`x-anthropic-billing-header: …`, always
 *   `system[0]`) is set apart and its per-request fields removed, the rest joined with blank
 *   lines;
 * - `system`-role messages inside `messages` (Claude Code adds notes mid-conversation) stay at
 *   their position as user-role `<system-reminder>` text. Moving them into the leading system
 *   prompt, as chat templates do with system messages, changes the start of the prompt on every
 *   note and so throws away a local server's whole prefix cache;
 * - the tool-use id → name/position index, and tool results in the order of their calls.
 */
import type {
  ContentBlock,
  JsonSchemaFormat,
  DocumentBlock,
  ImageBlock,
  MessagesRequest,
  OtherBlock,
  ServerToolUseBlock,
  TextBlock,
  ThinkingBlock,
  ToolResultBlock,
  ToolUseBlock,
  Source,
} from "./schema.ts";

export const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/** A block of a type atrad does not read, kept whole (redacted_thinking, server tool results, …). */
export interface Other {
  type: "other";
  block: OtherBlock;
}
export type ResultPart = TextBlock | ImageBlock | DocumentBlock | Other;
export type ToolResult = Omit<ToolResultBlock, "content"> & { content: ResultPart[] };
export type Block = TextBlock | ImageBlock | DocumentBlock | ThinkingBlock | ToolUseBlock | ServerToolUseBlock | ToolResult | Other;

export interface Turn {
  role: "user" | "assistant";
  content: Block[];
}

export interface ToolCallRef {
  name: string;
  /** Index of the assistant turn in `turns`. */
  turn: number;
  /** Position among that turn's tool_use blocks (0 = its first call). */
  position: number;
}

export interface Normalised {
  /** The request as received (the anthropic kind forwards it nearly unchanged). */
  request: MessagesRequest;
  system: {
    /** The billing block's text with its per-request fields removed, if Claude Code sent one. */
    billing?: string;
    /** The system prompt's text blocks, billing block excluded. */
    blocks: TextBlock[];
    /** Those blocks joined with blank lines. */
    text: string;
  };
  turns: Turn[];
  toolCalls: Map<string, ToolCallRef>;
}

export const BILLING_HEADER = /^x-anthropic-billing-header:/;
/**
 * Fields Claude Code puts in the billing block only for Anthropic's own hosts, different on
 * every request: were one to reach a local model, each request would start differently.
 */
const VOLATILE_BILLING_FIELDS = /\s*\b(?:cch|cc_prev_msg|cc_prev_req|cc_prompt_id)=[^;]*;?/g;

export function normaliseBilling(text: string): string {
  return text.replace(VOLATILE_BILLING_FIELDS, "");
}

const known = new Set(["text", "image", "document", "thinking", "tool_use", "server_tool_use", "tool_result"]);

function block(b: ContentBlock): Block {
  if (!known.has(b.type)) return { type: "other", block: b as OtherBlock };
  if (b.type !== "tool_result") return b as Block;
  const r = b as ToolResultBlock;
  const content: ResultPart[] =
    r.content === undefined
      ? []
      : typeof r.content === "string"
        ? [{ type: "text", text: r.content }]
        : r.content.map((p) => (p.type === "text" || p.type === "image" || p.type === "document" ? (p as ResultPart) : { type: "other", block: p as OtherBlock }));
  return { ...r, content };
}

function blocks(content: string | ContentBlock[]): Block[] {
  return typeof content === "string" ? [{ type: "text", text: content }] : content.map(block);
}

/** The payload of a source, by how it is carried (a source's type may be one atrad does not read). */
export function sourceData(source: Source, type: "base64" | "text"): string | undefined {
  return source.type === type ? (source as { data: string }).data : undefined;
}
export function sourceUrl(source: Source): string | undefined {
  return source.type === "url" ? (source as { url: string }).url : undefined;
}
export function mediaType(source: Source): string | undefined {
  const m = (source as { media_type?: unknown }).media_type;
  return typeof m === "string" ? m : undefined;
}

export function reminder(text: string): TextBlock {
  const t = text.trim();
  return { type: "text", text: t.startsWith("<system-reminder>") && t.endsWith("</system-reminder>") ? t : `<system-reminder>\n${text}\n</system-reminder>` };
}

export function textOf(bs: Block[], separator = "\n\n"): string {
  return bs
    .filter((b): b is TextBlock => b.type === "text")
    .map((b) => b.text)
    .join(separator);
}

export function systemOf(system: MessagesRequest["system"]): Normalised["system"] {
  const all = system === undefined ? [] : blocks(system);
  const texts = all.filter((b): b is TextBlock => b.type === "text");
  const billing = texts[0] && BILLING_HEADER.test(texts[0].text) ? normaliseBilling(texts[0].text) : undefined;
  const rest = texts.filter((b, i) => !(i === 0 && billing !== undefined) && !BILLING_HEADER.test(b.text));
  return { ...(billing !== undefined ? { billing } : {}), blocks: rest, text: rest.map((b) => b.text).join("\n\n") };
}

/**
 * The turns: user and assistant messages as blocks, each `system` message as a reminder in
 * the user turn beside it — appended to the user turn before it, else placed in the next user
 * turn after its tool results (tool results must directly follow their calls), else a user
 * turn of its own. Chat templates that insist on alternating roles stay satisfied.
 */
export function turnsOf(messages: MessagesRequest["messages"]): Turn[] {
  return placeNotes(messages, blocks);
}

/**
 * The same placement on the wire form, for a kind that forwards Anthropic requests: Ollama's
 * native /v1/messages passes a `system` message on as one, and its template moves it to the
 * front like any other. Messages without a note beside them keep their content as it was.
 */
export function notesInPlace(messages: MessagesRequest["messages"]): MessagesRequest["messages"] {
  if (!messages.some((m) => m.role === "system")) return messages;
  return placeNotes(messages, (c) => (typeof c === "string" ? [{ type: "text", text: c }] : [...c]));
}

function placeNotes<B extends { type: string }>(messages: MessagesRequest["messages"], toBlocks: (content: string | ContentBlock[]) => B[]): Array<{ role: "user" | "assistant"; content: Array<B | TextBlock> }> {
  const turns: Array<{ role: "user" | "assistant"; content: Array<B | TextBlock> }> = [];
  let pending: TextBlock[] = [];
  const flush = () => {
    if (pending.length) turns.push({ role: "user", content: pending });
    pending = [];
  };
  for (const m of messages) {
    if (m.role === "system") {
      const text = textOf(blocks(m.content));
      if (!text) continue;
      const last = turns.at(-1);
      if (last?.role === "user" && !pending.length) last.content.push(reminder(text));
      else pending.push(reminder(text));
      continue;
    }
    const content: Array<B | TextBlock> = toBlocks(m.content);
    if (m.role === "user" && pending.length) {
      const results = content.findIndex((b) => b.type !== "tool_result");
      const at = results < 0 ? content.length : results;
      content.splice(at, 0, ...pending);
      pending = [];
    } else flush();
    turns.push({ role: m.role, content });
  }
  flush();
  return turns;
}

export function toolCallIndex(turns: Turn[]): Map<string, ToolCallRef> {
  const index = new Map<string, ToolCallRef>();
  turns.forEach((t, turn) => {
    if (t.role !== "assistant") return;
    let position = 0;
    for (const b of t.content) if (b.type === "tool_use") index.set(b.id, { name: b.name, turn, position: position++ });
  });
  return index;
}

/**
 * Tool results in the order of the calls they answer. Claude Code returns them in completion
 * order (`[B, A]` after calls `[A, B]`); a backend that pairs results with calls by position
 * (Ollama's `role: tool` messages carry only the tool's name, prompt tools only text) would
 * read B's output as A's. Results keep the slots they occupied; results of other turns' calls
 * (or unknown ids) stay behind the answered ones, in their own order.
 */
export function orderResults(turns: Turn[], toolCalls: Map<string, ToolCallRef>): void {
  turns.forEach((t, i) => {
    if (t.role !== "user" || turns[i - 1]?.role !== "assistant") return;
    const slots: number[] = [];
    const results: ToolResult[] = [];
    t.content.forEach((b, at) => {
      if (b.type !== "tool_result") return;
      slots.push(at);
      results.push(b);
    });
    if (results.length < 2) return;
    const rank = (r: ToolResult) => {
      const ref = toolCalls.get(r.tool_use_id);
      return ref?.turn === i - 1 ? ref.position : Number.MAX_SAFE_INTEGER;
    };
    const sorted = results.map((r, k) => ({ r, k })).sort((a, b) => rank(a.r) - rank(b.r) || a.k - b.k);
    slots.forEach((at, k) => (t.content[at] = sorted[k]!.r));
  });
}

/** The 1-based position of the call a result answers in the turn just before it, if it does. */
export function callNumber(n: Normalised, turn: number, toolUseId: string): number | undefined {
  const ref = n.toolCalls.get(toolUseId);
  return ref && ref.turn === turn - 1 ? ref.position + 1 : undefined;
}

export function normalise(request: MessagesRequest): Normalised {
  const turns = turnsOf(request.messages);
  const toolCalls = toolCallIndex(turns);
  orderResults(turns, toolCalls);
  return { request, system: systemOf(request.system), turns, toolCalls };
}

/** The JSON schema the answer must match (`output_config.format`), if the client asked for one. */
export function structuredOutput(req: MessagesRequest): JsonSchemaFormat | undefined {
  const format = req.output_config?.format;
  return format?.type === "json_schema" ? (format as JsonSchemaFormat) : undefined;
}

/** For backends that cannot constrain their output: the schema as an instruction. */
export function outputInstruction(format: JsonSchemaFormat): string {
  return `Give your final answer as one JSON value and nothing else (no prose, no code fence). It must match this JSON schema:\n${JSON.stringify(format.schema)}`;
}

/** What tool_choice asks of a model that cannot be forced natively, as rules it is told. */
export function toolChoiceRules(choice: MessagesRequest["tool_choice"]): string[] {
  const rules: string[] = [];
  if ((choice as { disable_parallel_tool_use?: unknown } | undefined)?.disable_parallel_tool_use === true) rules.push("Call at most one tool per answer.");
  if (choice?.type === "any") rules.push("You must call at least one tool in this answer.");
  const name = (choice as { name?: unknown } | undefined)?.name;
  if (choice?.type === "tool" && typeof name === "string") rules.push(`You must call the tool "${name}" in this answer.`);
  return rules;
}

/** At most one tool_use per answer (tool_choice.disable_parallel_tool_use). */
export function singleToolCall(req: MessagesRequest): boolean {
  return (req.tool_choice as { disable_parallel_tool_use?: unknown } | undefined)?.disable_parallel_tool_use === true;
}

/**
 * A per-request note for the model, at the end of the last user turn: there it costs no
 * prefix cache (the system prompt and the history before it stay as they were).
 */
export function withNote(turns: Turn[], text: string): Turn[] {
  const at = turns.findLastIndex((t) => t.role === "user");
  if (at < 0) return [...turns, { role: "user", content: [reminder(text)] }];
  return turns.map((t, i) => (i === at ? { ...t, content: [...t.content, reminder(text)] } : t));
}

/** Tool definitions the model may call: deferred tools wait for a tool search that local servers lack. */
export function offeredTools(req: MessagesRequest): NonNullable<MessagesRequest["tools"]> {
  if (req.tool_choice?.type === "none") return [];
  return (req.tools ?? []).filter((t) => (t as Record<string, unknown>).defer_loading !== true);
}
