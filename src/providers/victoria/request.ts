/**
 * Anthropic request → Victoria's `POST /run` body (DESIGN §4.6). Pure.
 *
 * The old proxy sent only the last user text; here nothing the client sent is silently lost:
 * the whole last user turn is the goal, earlier turns become `chat_history` with tool calls and
 * results written out as text, the system prompt becomes `project_context` (as configured),
 * and base64 images travel in `images_base64`. Only thinking blocks are left out on purpose:
 * they are the assistant's private reasoning (or our own progress notes), not conversation.
 */
import { invalidRequest } from "../../anthropic/errors.ts";
import type { MessagesRequest } from "../../anthropic/schema.ts";

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

type Block = { type?: string; [k: string]: unknown };

/** Victoria runs its own agents and cannot call the client's tools; forcing one is a 400. */
export function checkToolChoice(req: MessagesRequest): void {
  const choice = req.tool_choice?.type;
  if (choice === "any" || choice === "tool") {
    const what = choice === "tool" ? `the tool "${String((req.tool_choice as { name?: unknown }).name ?? "")}"` : "a tool";
    throw invalidRequest(`tool_choice "${choice}" asks for ${what}, but Victoria cannot call tools: it answers with text only. Use tool_choice "auto" or "none", or another model.`);
  }
}

export function toRunBody(req: MessagesRequest, opts: RunBodyOptions): RunBody {
  const messages = req.messages as Array<{ role: string; content: string | Block[] }>;
  const lastUser = messages.findLastIndex((m) => m.role === "user");
  if (lastUser < 0) throw invalidRequest("messages must contain a user turn: Victoria needs a goal");

  // A tool_result names only its tool_use id; remember the calls so results can name the tool.
  const toolNames = new Map<string, string>();
  for (const m of messages) {
    if (Array.isArray(m.content)) for (const b of m.content) if (b.type === "tool_use") toolNames.set(String(b.id), String(b.name));
  }

  const systemParts = [systemText(req.system)];
  const history: HistoryEntry[] = [];
  const goalParts: string[] = [];
  const images: string[] = [];
  messages.forEach((m, i) => {
    // Claude Code puts `role: "system"` messages inside `messages` (DESIGN §4.2): they are
    // instructions, so they join the system prompt in project_context, wherever they sit.
    if (m.role === "system") {
      systemParts.push(renderContent(m.content, toolNames));
      return;
    }
    if (i < lastUser) {
      const content = renderContent(m.content, toolNames);
      if (content) history.push({ role: m.role, content });
    } else if (i === lastUser) {
      goalParts.push(renderContent(m.content, toolNames, images));
    } else {
      // An assistant prefill after the goal: Victoria has no prefill, so say it in words.
      goalParts.push(`(Continue from this start of the answer:)\n${renderContent(m.content, toolNames)}`);
    }
  });

  const goal = goalParts.filter(Boolean).join("\n\n");
  if (!goal.trim() && !images.length) throw invalidRequest("the last user turn is empty: Victoria needs a goal");
  const projectContext = applyPolicy(systemParts.filter(Boolean).join("\n\n"), opts.projectContext);

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

function systemText(system: MessagesRequest["system"]): string {
  if (system === undefined) return "";
  if (typeof system === "string") return system;
  return (system as Block[])
    .filter((b) => b.type === "text" && typeof b.text === "string")
    .map((b) => b.text as string)
    // Claude Code's billing marker is a header in disguise, not an instruction.
    .filter((t) => !t.startsWith("x-anthropic-billing-header:"))
    .join("\n\n");
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
export function renderContent(content: string | Block[], toolNames: Map<string, string>, images?: string[]): string {
  if (typeof content === "string") return content;
  return content
    .map((b) => renderBlock(b, toolNames, images))
    .filter((s) => s !== "")
    .join("\n\n");
}

function renderBlock(b: Block, toolNames: Map<string, string>, images?: string[]): string {
  switch (b.type) {
    case "text":
      return String(b.text ?? "");
    case "thinking":
    case "redacted_thinking":
      return "";
    case "image":
      return renderImage(b, images);
    case "tool_use":
      return `[tool call ${String(b.name)} (id ${String(b.id)}) with input ${JSON.stringify(b.input ?? {})}]`;
    case "tool_result": {
      const id = String(b.tool_use_id);
      const name = toolNames.get(id);
      const head = `[${b.is_error ? "tool error" : "tool result"} for ${name ? `${name} ` : ""}(id ${id})]`;
      const inner = b.content === undefined ? "" : renderContent(b.content as string | Block[], toolNames, images);
      return inner ? `${head}\n${inner}` : `${head} (empty)`;
    }
    case "document": {
      const source = b.source as { type?: string; data?: unknown; media_type?: string } | undefined;
      const title = b.title ? ` "${String(b.title)}"` : "";
      if (source?.type === "text") return `[document${title}]\n${String(source.data ?? "")}`;
      return `[document${title} (${source?.media_type ?? source?.type ?? "unknown"}) not readable as text]`;
    }
    default:
      // Server tool blocks and future types: keep them visible rather than lose them.
      return `[${String(b.type)} block]\n${JSON.stringify(b)}`;
  }
}

function renderImage(b: Block, images?: string[]): string {
  const source = b.source as { type?: string; media_type?: string; data?: unknown; url?: unknown } | undefined;
  if (source?.type === "base64" && typeof source.data === "string") {
    if (!images) return `[image (${source.media_type ?? "image"}) from an earlier turn]`;
    images.push(source.data);
    return `[image ${images.length} attached (${source.media_type ?? "image"})]`;
  }
  if (source?.type === "url") return `[image at ${String(source.url)}]`;
  return "[image]";
}
