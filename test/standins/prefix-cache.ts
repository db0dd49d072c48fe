/**
 * The prefix cache of a local model server, as the stand-ins model it (one module, used by
 * every stand-in). What real servers do:
 *
 * - The request becomes one prompt through the model's chat template. OpenAI-compatible
 *   servers (llama.cpp, LM Studio, vLLM, mlx_lm.server) render a ChatML-like template: each
 *   message in its place, the tools inside the first system message. Ollama's templates
 *   (`template.go` collate) gather EVERY system message into the leading system prompt, ahead of
 *   the tools, and merge consecutive messages of one role; its native /v1/messages turns the
 *   Anthropic request into such messages first (system blocks joined with no separator,
 *   `system`-role messages kept as system messages).
 * - Per slot, the server keeps the tokens of the previous prompt plus the answer it generated,
 *   and prefills only what follows the longest common prefix with the new prompt. llama.cpp
 *   pins a slot with `id_slot`, else takes the slot with the longest match; Ollama has one
 *   runner, so one slot, per model.
 *
 * Tokens here are small pieces of text (whitespace plus up to four characters), close enough to
 * a BPE for prefix lengths; `figures` holds every prefill for tests and benches to read.
 */

export type Template = "chatml" | "ollama";

/** One prefill: the prompt's size, the part served from the slot's cache, and which slot. */
export interface Prefill {
  model: string;
  slot: number;
  /** The slot's first prompt (nothing could be cached). */
  first: boolean;
  prompt: number;
  cached: number;
  /** Tokens actually evaluated (prompt − cached): what Ollama reports as prompt_eval_count. */
  evaluated: number;
}

export function tokenize(text: string): string[] {
  return text.match(/\s*\S{1,4}|\s+/g) ?? [];
}

function commonPrefix(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

interface Slot {
  tokens: string[] | undefined;
  /** When it was last used (a counter). */
  used: number;
}

/** llama.cpp's default `slot_prompt_similarity`: below it a prompt is "another conversation". */
const SIMILARITY = 0.5;

/**
 * The slot a server gives an unpinned prompt: the one sharing the longest prefix if that is at
 * least half the prompt (llama.cpp `--slot-prompt-similarity`; Ollama's multi-user cache does
 * alike), else an empty slot, else the least recently used one.
 */
function chooseSlot(slots: readonly Slot[], tokens: readonly string[]): number {
  let best = -1;
  let bestLength = -1;
  for (const [i, s] of slots.entries()) {
    const n = s.tokens ? commonPrefix(s.tokens, tokens) : -1;
    if (n > bestLength) [best, bestLength] = [i, n];
  }
  if (best >= 0 && bestLength >= SIMILARITY * tokens.length) return best;
  const empty = slots.findIndex((s) => s.tokens === undefined);
  if (empty >= 0) return empty;
  return slots.reduce((lru, s, i) => (s.used < slots[lru]!.used ? i : lru), 0);
}

export class PrefixCache {
  /** Every prefill, in order. */
  readonly figures: Prefill[] = [];
  private readonly slots = new Map<string, Slot[]>();
  private clock = 0;

  /** `slots`: parallel slots per model (llama.cpp `--parallel`); Ollama has one. */
  constructor(private readonly slotCount = 1) {}

  /**
   * Prefill `prompt` for `model`: on slot `pin` when given (and valid), else as the servers
   * choose (see chooseSlot). `answered` stores prompt + answer as the slot's new contents.
   */
  prefill(model: string, prompt: string, pin?: number): Prefill & { answered(answer: string): void } {
    let slots = this.slots.get(model);
    if (!slots) this.slots.set(model, (slots = Array.from({ length: this.slotCount }, () => ({ tokens: undefined, used: 0 }))));
    const tokens = tokenize(prompt);
    const slot = typeof pin === "number" && pin >= 0 && pin < slots.length ? pin : chooseSlot(slots, tokens);
    const kept = slots[slot]!.tokens;
    // A prompt wholly inside the cache still evaluates its last token (servers need its logits).
    const cached = kept ? Math.min(commonPrefix(kept, tokens), Math.max(0, tokens.length - 1)) : 0;
    const figure: Prefill = { model, slot, first: kept === undefined, prompt: tokens.length, cached, evaluated: tokens.length - cached };
    this.figures.push(figure);
    const state = slots[slot]!;
    Object.assign(state, { tokens, used: ++this.clock });
    return { ...figure, answered: (answer) => void (state.tokens = tokenize(prompt + answer)) };
  }

  /** Share of the prompt tokens served from the cache, over every prefill after a slot's first. */
  share(figures: readonly Prefill[] = this.figures): number {
    const later = figures.filter((f) => !f.first);
    const prompt = later.reduce((n, f) => n + f.prompt, 0);
    return prompt ? later.reduce((n, f) => n + f.cached, 0) / prompt : 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Templates. Every renderer gives the prompt up to the assistant's generation header; the
// answer's own rendering (what the server keeps after generating) comes from `renderAnswer`.

/** A chat message as the templates see it (the servers' own JSON, reduced to what renders). */
export interface ChatMessage {
  role: string;
  content: string;
  tool_calls?: Array<{ name: string; arguments: unknown }>;
}
export interface ChatTool {
  name: string;
  description?: string;
  parameters?: unknown;
}

const START = "<|im_start|>";
const END = "<|im_end|>";

function toolsBlock(tools: readonly ChatTool[]): string {
  if (!tools.length) return "";
  const lines = tools.map((t) => JSON.stringify({ type: "function", function: { name: t.name, description: t.description, parameters: t.parameters } }));
  return `\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n<tools>\n${lines.join("\n")}\n</tools>`;
}

/** Arguments as the server serialises them: a string as it came, an object as JSON. */
const argumentsText = (args: unknown) => (typeof args === "string" ? args : JSON.stringify(args ?? {}));

function messageBody(m: ChatMessage): string {
  const calls = (m.tool_calls ?? []).map((c) => `<tool_call>\n{"name": ${JSON.stringify(c.name)}, "arguments": ${argumentsText(c.arguments)}}\n</tool_call>`);
  return [m.content, ...calls].filter(Boolean).join("\n");
}

function turn(m: ChatMessage): string {
  if (m.role === "tool") return `${START}user\n<tool_response>\n${m.content}\n</tool_response>${END}\n`;
  return `${START}${m.role}\n${messageBody(m)}${END}\n`;
}

/** ChatML as llama.cpp / LM Studio / vLLM render it: system messages stay where they are. */
export function renderChatml(messages: readonly ChatMessage[], tools: readonly ChatTool[]): string {
  let out = "";
  let rest = messages;
  if (messages[0]?.role === "system" || tools.length) {
    const head = messages[0]?.role === "system" ? messages[0].content : "";
    rest = messages[0]?.role === "system" ? messages.slice(1) : messages;
    out += `${START}system\n${head}${toolsBlock(tools)}${END}\n`;
  }
  for (const m of rest) out += turn(m);
  return `${out}${START}assistant\n`;
}

/**
 * Ollama's template: every system message collated into the leading system prompt, then the
 * tools, then the other messages with consecutive ones of a role merged.
 */
export function renderOllama(messages: readonly ChatMessage[], tools: readonly ChatTool[]): string {
  const system = messages.filter((m) => m.role === "system").map((m) => m.content);
  const collated: ChatMessage[] = [];
  for (const m of messages) {
    if (m.role === "system") continue;
    const prev = collated.at(-1);
    if (prev && prev.role === m.role && m.role !== "tool") collated[collated.length - 1] = { ...prev, content: `${prev.content}\n\n${m.content}`, tool_calls: [...(prev.tool_calls ?? []), ...(m.tool_calls ?? [])] };
    else collated.push(m);
  }
  let out = system.length || tools.length ? `${START}system\n${system.join("\n\n")}${toolsBlock(tools)}${END}\n` : "";
  for (const m of collated) out += turn(m);
  return `${out}${START}assistant\n`;
}

export const render = (template: Template, messages: readonly ChatMessage[], tools: readonly ChatTool[]) =>
  (template === "chatml" ? renderChatml : renderOllama)(messages, tools);

/** What the server keeps after generating: the answer's turn up to its end marker. */
export function renderAnswer(answer: { text: string; tool_calls?: ChatMessage["tool_calls"] }): string {
  return `${messageBody({ role: "assistant", content: answer.text, tool_calls: answer.tool_calls })}${END}`;
}

// ---------------------------------------------------------------------------------------------
// The servers' request bodies → messages.

const partsText = (content: unknown): string =>
  typeof content === "string" ? content : Array.isArray(content) ? content.map((p: any) => (typeof p?.text === "string" ? p.text : "")).join("") : "";

/** An OpenAI Chat Completions body (arguments stay the strings the client sent). */
export function fromOpenAI(body: any): { messages: ChatMessage[]; tools: ChatTool[] } {
  const messages = (body.messages ?? []).map((m: any) => ({
    role: m.role,
    content: partsText(m.content),
    ...(m.tool_calls?.length ? { tool_calls: m.tool_calls.map((c: any) => ({ name: c.function?.name, arguments: c.function?.arguments })) } : {}),
  }));
  return { messages, tools: (body.tools ?? []).map((t: any) => t.function ?? t) };
}

/** An Ollama /api/chat body (arguments are objects). */
export function fromOllamaChat(body: any): { messages: ChatMessage[]; tools: ChatTool[] } {
  const messages = (body.messages ?? []).map((m: any) => ({
    role: m.role,
    content: typeof m.content === "string" ? m.content : "",
    ...(m.tool_calls?.length ? { tool_calls: m.tool_calls.map((c: any) => ({ name: c.function?.name, arguments: c.function?.arguments })) } : {}),
  }));
  return { messages, tools: (body.tools ?? []).map((t: any) => t.function ?? t) };
}

/**
 * An Anthropic Messages body as Ollama's native layer turns it into chat messages: the system
 * blocks' texts joined with no separator, tool results as `tool` messages, tool uses as calls,
 * and a `system`-role message in `messages` kept as a system message.
 */
export function fromAnthropic(body: any): { messages: ChatMessage[]; tools: ChatTool[] } {
  const messages: ChatMessage[] = [];
  const system = typeof body.system === "string" ? body.system : Array.isArray(body.system) ? body.system.map((b: any) => (b?.type === "text" ? b.text : "")).join("") : "";
  if (system) messages.push({ role: "system", content: system });
  for (const m of body.messages ?? []) {
    if (typeof m.content === "string") {
      messages.push({ role: m.role, content: m.content });
      continue;
    }
    const texts: string[] = [];
    const calls: NonNullable<ChatMessage["tool_calls"]> = [];
    for (const b of m.content ?? []) {
      if (b?.type === "text") texts.push(b.text);
      else if (b?.type === "tool_use") calls.push({ name: b.name, arguments: b.input });
      else if (b?.type === "tool_result") messages.push({ role: "tool", content: partsText(b.content) });
    }
    if (texts.length || calls.length) messages.push({ role: m.role, content: texts.join(""), ...(calls.length ? { tool_calls: calls } : {}) });
  }
  return { messages, tools: (body.tools ?? []).filter((t: any) => t?.input_schema).map((t: any) => ({ name: t.name, description: t.description, parameters: t.input_schema })) };
}
