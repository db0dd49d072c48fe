/**
 * Anthropic request → Victoria's `POST /run` body. Pure.
 *
 * The old proxy sent only the last user text; here nothing the client sent is silently lost:
 * the whole last user turn is the goal, earlier turns become `chat_history` with tool calls and
 * results written out as text, the system prompt becomes `project_context` (as configured),
 * and base64 images travel in `images_base64`. Only thinking blocks are left out on purpose:
 * they are the assistant's private reasoning (or our own progress notes), not conversation.
 */
import { invalidRequest } from "../../anthropic/errors.ts";
import { mediaType, outputInstruction, sourceData, sourceUrl, structuredOutput, type Block, type Normalised, type ResultPart } from "../../anthropic/normalise.ts";
import type { ImageBlock, MessagesRequest } from "../../anthropic/schema.ts";

export type ProjectContextPolicy = "keep" | "drop" | number;

export interface RunBodyOptions {
  projectContext: ProjectContextPolicy;
  sessionId?: string | null;
  /** Set → the smaller Veronica-style body `{goal, max_steps, project_context}`. */
  maxSteps?: number;
}

export interface HistoryEntry {
  role: string;
  content: string;
}

export interface RunBody {
  goal: string;
  max_steps?: number;
  project_context?: string;
  session_id?: string;
  chat_history?: HistoryEntry[];
  images_base64?: string[];
}

/** Victoria runs its own agents and cannot call the client's tools; forcing one is a 400. */
export function checkToolChoice(req: MessagesRequest): void {
  const choice = req.tool_choice?.type;
  if (choice === "any" || choice === "tool") {
    const what = choice === "tool" ? `the tool "${String((req.tool_choice as { name?: unknown }).name ?? "")}"` : "a tool";
    throw invalidRequest(`tool_choice "${choice}" asks for ${what}, but Victoria cannot call tools: it answers with text only. Use tool_choice "auto" or "none", or another model.`);
  }
}

export function toRunBody(n: Normalised, opts: RunBodyOptions): RunBody {
  const turns = n.turns;
  const lastUser = turns.findLastIndex((m) => m.role === "user");
  if (lastUser < 0) throw invalidRequest("messages must contain a user turn: Victoria needs a goal");

  const names = n.toolCalls;
  const history: HistoryEntry[] = [];
  const goalParts: string[] = [];
  const images: string[] = [];
  // Claude Code's mid-conversation notes arrive as <system-reminder> text in the user turn they
  // belong to (see normalise): in the history or the goal, where they were said.
  turns.forEach((m, i) => {
    if (i < lastUser) {
      const content = renderContent(m.content, names);
      if (content) history.push({ role: m.role, content });
    } else if (i === lastUser) {
      goalParts.push(renderContent(m.content, names, images));
    } else {
      // An assistant prefill after the goal: Victoria has no prefill, so say it in words.
      goalParts.push(`(Continue from this start of the answer:)\n${renderContent(m.content, names)}`);
    }
  });

  // Victoria's agents answer in prose unless told: a requested schema becomes an instruction.
  const said = goalParts.filter(Boolean).join("\n\n");
  if (!said.trim() && !images.length) throw invalidRequest("the last user turn is empty: Victoria needs a goal");
  const format = structuredOutput(n.request);
  const goal = format ? [said, outputInstruction(format)].filter(Boolean).join("\n\n") : said;
  const projectContext = applyPolicy(n.system.text, opts.projectContext);

  if (opts.maxSteps !== undefined) {
    // Veronica's /run takes no history or images: fold the conversation into the goal so
    // earlier turns still reach it (dropping them was the old proxy's fault).
    const transcript = history.map((h) => `${roleLabel(h.role)}:\n${h.content}`).join("\n\n");
    const lost = images.length ? `\n\n(${images.length} attached image(s) could not be passed on: this provider takes no images.)` : "";
    const body: RunBody = {
      goal: (transcript ? `Conversation so far:\n\n${transcript}\n\nCurrent request:\n\n${goal}` : goal) + lost,
      max_steps: opts.maxSteps,
    };
    if (projectContext) body.project_context = projectContext;
    return body;
  }

  const body: RunBody = { goal };
  if (projectContext) body.project_context = projectContext;
  if (opts.sessionId) body.session_id = opts.sessionId;
  if (history.length) body.chat_history = history;
  if (images.length) body.images_base64 = images;
  return body;
}

/** Every string Victoria will read, for the usage count. */
export function sentText(body: RunBody): string {
  return [body.project_context ?? "", ...(body.chat_history ?? []).map((h) => h.content), body.goal].join("\n");
}

function roleLabel(role: string) {
  return role === "assistant" ? "Assistant" : role === "user" ? "User" : role;
}

export function applyPolicy(text: string, policy: ProjectContextPolicy): string {
  if (policy === "drop") return "";
  if (policy === "keep") return text;
  // Cut on a code point boundary so a truncated context never ends in half an emoji.
  return Array.from(text).slice(0, policy).join("");
}

/**
 * One message's content as readable text. `images`, when given, collects base64 image data
 * (the goal turn's pictures, also those inside tool results); elsewhere images are named only.
 */
export function renderContent(content: Array<Block | ResultPart>, names: Normalised["toolCalls"], images?: string[]): string {
  return content
    .map((b) => renderBlock(b, names, images))
    .filter((s) => s !== "")
    .join("\n\n");
}

function renderBlock(b: Block | ResultPart, names: Normalised["toolCalls"], images?: string[]): string {
  switch (b.type) {
    case "text":
      return b.text;
    case "thinking":
      return "";
    case "image":
      return renderImage(b, images);
    case "tool_use":
    case "server_tool_use":
      return `[tool call ${b.name} (id ${b.id}) with input ${JSON.stringify(b.input)}]`;
    case "tool_result": {
      const id = b.tool_use_id;
      const name = names.get(id)?.name;
      const head = `[${b.is_error ? "tool error" : "tool result"} for ${name ? `${name} ` : ""}(id ${id})]`;
      const inner = renderContent(b.content, names, images);
      return inner ? `${head}\n${inner}` : `${head} (empty)`;
    }
    case "document": {
      const title = b.title ? ` "${String(b.title)}"` : "";
      const text = sourceData(b.source, "text");
      if (text !== undefined) return `[document${title}]\n${text}`;
      return `[document${title} (${mediaType(b.source) ?? b.source.type}) not readable as text]`;
    }
    case "other":
      // Redacted thinking is private reasoning; server tool blocks and future types stay
      // visible rather than lost.
      return b.block.type === "redacted_thinking" ? "" : `[${b.block.type} block]\n${JSON.stringify(b.block)}`;
    default:
      return unreachable(b);
  }
}

function unreachable(b: never): never {
  throw new Error(`unhandled block ${JSON.stringify(b)}`);
}

function renderImage(b: ImageBlock, images?: string[]): string {
  const data = sourceData(b.source, "base64");
  const media = mediaType(b.source) ?? "image";
  if (data !== undefined) {
    if (!images) return `[image (${media}) from an earlier turn]`;
    images.push(data);
    return `[image ${images.length} attached (${media})]`;
  }
  const url = sourceUrl(b.source);
  if (url !== undefined) return `[image at ${url}]`;
  return "[image]";
}
