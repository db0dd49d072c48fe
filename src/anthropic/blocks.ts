/**
 * The shapes of the content blocks atrad reads, checked once at the gateway. The TypeBox schema
 * keeps every block open (unknown fields and block types travel on unchanged), so by itself it
 * admits `{"type":"tool_result","content":[null]}` or a text block whose text is a number —
 * which the Anthropic API answers with a 400 and every translator would trip over with a
 * TypeError (a 500). Only the fields translators rely on are checked; unknown types pass.
 */
import { invalidRequest } from "./errors.ts";

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/** The first problem with a block, as "path: what is wrong", or undefined when it is usable. */
function blockProblem(b: unknown, path: string, nested = false): string | undefined {
  if (!isObject(b)) return `${path}: must be an object with a "type"`;
  if (typeof b.type !== "string") return `${path}.type: must be a string`;
  switch (b.type) {
    case "text":
      return typeof b.text === "string" ? undefined : `${path}.text: must be a string`;
    case "thinking":
      if (typeof b.thinking !== "string") return `${path}.thinking: must be a string`;
      return b.signature === undefined || typeof b.signature === "string" ? undefined : `${path}.signature: must be a string`;
    case "image":
    case "document": {
      const s = b.source;
      if (!isObject(s) || typeof s.type !== "string") return `${path}.source: must be an object with a "type"`;
      if (s.type === "base64" && typeof s.data !== "string") return `${path}.source.data: must be a string`;
      if (s.type === "url" && typeof s.url !== "string") return `${path}.source.url: must be a string`;
      if (s.type === "text" && typeof s.data !== "string") return `${path}.source.data: must be a string`;
      return undefined;
    }
    case "tool_use":
    case "server_tool_use":
      if (nested) return undefined;
      if (typeof b.id !== "string") return `${path}.id: must be a string`;
      if (typeof b.name !== "string") return `${path}.name: must be a string`;
      return isObject(b.input) ? undefined : `${path}.input: must be an object`;
    case "tool_result": {
      if (nested) return undefined;
      if (typeof b.tool_use_id !== "string") return `${path}.tool_use_id: must be a string`;
      const c = b.content;
      if (c === undefined || typeof c === "string") return undefined;
      if (!Array.isArray(c)) return `${path}.content: must be a string or an array of blocks`;
      for (const [i, inner] of c.entries()) {
        const p = blockProblem(inner, `${path}.content.${i}`, true);
        if (p) return p;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** Throws a 400 naming the first unusable block of `messages` or `system`. */
export function checkBlocks(req: { messages: Array<{ content: unknown }>; system?: unknown }): void {
  if (Array.isArray(req.system)) {
    for (const [i, b] of req.system.entries()) {
      const p = blockProblem(b, `system.${i}`);
      if (p) throw invalidRequest(p);
    }
  }
  for (const [m, msg] of req.messages.entries()) {
    if (!Array.isArray(msg.content)) continue;
    for (const [i, b] of msg.content.entries()) {
      const p = blockProblem(b, `messages.${m}.content.${i}`);
      if (p) throw invalidRequest(p);
    }
  }
}
