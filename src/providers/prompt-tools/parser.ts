/**
 * Prompt-based tools, response side (pure, streaming): finds tool calls in the model's text as
 * it streams. Text before a call is released at once; only what could be the start of a call
 * (a `<` that may become `<tool_call>`, a fence or `{` at the start of a line) is held back.
 *
 * Accepted, liberally, because small models drift from the format they were given:
 * - `<tool_call>{"name": …, "arguments": {…}}</tool_call>` (also `<tool_use>`, `<function_call>`,
 *   a missing close tag at the end of the answer);
 * - a fenced block (```json, ```tool_call, or a bare ```) holding such an object;
 * - a bare JSON object at the start of a line whose first key is "name", "tool" or "function";
 * - `input`, `parameters` or `args` instead of `arguments`; arguments as a JSON string; an array
 *   of calls; JSON that jsonrepair fixes unambiguously.
 * A fence or bare object that is not a call of an offered tool is passed on as the text it was.
 */
import { isObject } from "../../anthropic/normalise.ts";
import { outsideStrings, parseJsonLoose, repairToolArguments } from "../shared/repair.ts";

/** A call carries `raw`, the text the model wrote for it, when that text holds only this call. */
export type Segment = { type: "text"; text: string } | { type: "call"; name: string; input: Record<string, unknown>; raw?: string };

type Mode = "text" | "tag" | "fence" | "json" | "discard";
type Decision = "no" | "wait" | { mode: Mode; skip?: number; openLen?: number; textFence?: boolean };

const OPEN_TAG = /^<(tool_calls?|tool_use|function_call)(\s[^>]*)?>/i;
const CLOSE_TAG = /<\/(tool_calls?|tool_use|function_call)\s*>/iy;
const TAG_NAMES = ["<tool_call", "<tool_calls", "<tool_use", "<function_call"];
const JSON_FENCES = new Set(["", "json", "json5", "tool_call", "tool_use", "tool", "function_call"]);
const CALL_KEYS = ['"name"', '"tool"', '"tool_name"', '"function"', "'name'", "'tool'", "'function'"];

export class PromptToolParser {
  private buf = "";
  private mode: Mode = "text";
  private openLen = 0;
  private lineBlank = true;
  private textFence = false;
  private held = "";
  private afterCall = false;
  calls = 0;

  constructor(private readonly tools: string[]) {}

  feed(text: string): Segment[] {
    this.buf += text;
    return this.run(false);
  }

  end(): Segment[] {
    const out = this.run(true);
    if (this.calls === 0 && this.held) out.push({ type: "text", text: this.held });
    this.held = "";
    return out;
  }

  private run(final: boolean): Segment[] {
    const out: Segment[] = [];
    for (;;) {
      if (this.mode === "discard") {
        this.buf = "";
        return out;
      }
      if (this.mode === "text") {
        if (!this.scanText(final, out)) return out;
      } else if (!this.scanBlock(final, out)) return out;
    }
  }

  /** Emit text up to the next trigger; true when a block mode was entered (keep going). */
  private scanText(final: boolean, out: Segment[]): boolean {
    let blank = this.lineBlank;
    for (let i = 0; i < this.buf.length; i++) {
      const c = this.buf[i]!;
      const d: Decision = c === "<" || (blank && (c === "`" || c === "{")) ? this.decide(i, blank, final) : "no";
      if (d === "wait") {
        this.emit(this.buf.slice(0, i), out);
        this.buf = this.buf.slice(i);
        return false;
      }
      if (d !== "no") {
        if (d.textFence !== undefined) {
          // A fence that holds no call: it and its contents are plain text.
          this.textFence = d.textFence;
          i += (d.skip ?? 1) - 1;
          blank = false;
          continue;
        }
        this.emit(this.buf.slice(0, i), out);
        this.buf = this.buf.slice(i);
        this.mode = d.mode;
        this.openLen = d.openLen ?? 0;
        return true;
      }
      if (c === "\n") blank = true;
      else if (c !== " " && c !== "\t" && c !== "\r") blank = false;
    }
    this.emit(this.buf, out);
    this.buf = "";
    return false;
  }

  private decide(i: number, blank: boolean, final: boolean): Decision {
    const rest = this.buf.slice(i);
    if (this.textFence) {
      if (!blank || rest[0] !== "`") return "no";
      if (rest.startsWith("```")) return { mode: "text", textFence: false, skip: 3 };
      return !final && "```".startsWith(rest) ? "wait" : "no";
    }
    if (rest[0] === "<") {
      const lower = rest.slice(0, 16).toLowerCase();
      if (this.calls > 0 && "<tool_result".startsWith(lower.slice(0, 12))) {
        // A model that goes on to invent its tool's result: nothing after that is real.
        if (lower.startsWith("<tool_result")) return { mode: "discard" };
        return final ? "no" : "wait";
      }
      if (OPEN_TAG.test(rest)) return { mode: "tag" };
      if (final) return "no";
      if (TAG_NAMES.some((t) => t.startsWith(lower) || (lower.startsWith(t) && !rest.includes(">")))) return rest.length < 300 ? "wait" : "no";
      return "no";
    }
    if (rest[0] === "`") {
      const m = /^```([\w-]*)[ \t]*\r?\n/.exec(rest);
      if (!m) {
        if (!final && /^`{1,3}[\w-]*[ \t]*\r?$/.test(rest)) return "wait";
        return rest.startsWith("```") ? { mode: "text", textFence: true, skip: 3 } : "no";
      }
      const body = rest.slice(m[0].length).trimStart();
      if (!body) return final ? { mode: "text", textFence: true, skip: m[0].length } : "wait";
      if ((body[0] === "{" || body[0] === "[") && JSON_FENCES.has(m[1]!.toLowerCase())) return { mode: "fence", openLen: m[0].length };
      return { mode: "text", textFence: true, skip: m[0].length };
    }
    // `{` at the start of a line: a bare call object if its first key names a tool.
    const r = rest.slice(1).trimStart();
    if (CALL_KEYS.some((k) => r.startsWith(k))) return { mode: "json" };
    if (!final && rest.length < 64 && CALL_KEYS.some((k) => k.startsWith(r))) return "wait";
    return "no";
  }

  /** Collect a whole call block; true when it was consumed (keep going). */
  private scanBlock(final: boolean, out: Segment[]): boolean {
    let body: string;
    let consumed: number;
    if (this.mode === "tag") {
      const open = OPEN_TAG.exec(this.buf)!;
      const close = closeTagAt(this.buf, open[0].length);
      if (close) {
        body = this.buf.slice(open[0].length, close.index);
        consumed = close.index + close.length;
      } else if (final) {
        body = this.buf.slice(open[0].length);
        consumed = this.buf.length;
      } else return false;
    } else if (this.mode === "fence") {
      const close = /\n[ \t]*```/.exec(this.buf.slice(this.openLen));
      if (close) {
        body = this.buf.slice(this.openLen, this.openLen + close.index);
        consumed = this.openLen + close.index + close[0].length;
      } else if (final) {
        body = this.buf.slice(this.openLen).replace(/```\s*$/, "");
        consumed = this.buf.length;
      } else return false;
    } else {
      const end = balancedEnd(this.buf);
      if (end < 0 && !final) return false;
      consumed = end < 0 ? this.buf.length : end;
      body = this.buf.slice(0, consumed);
    }
    const raw = this.buf.slice(0, consumed);
    const form = this.mode;
    this.buf = this.buf.slice(consumed);
    this.mode = "text";
    this.lineBlank = false;
    this.resolve(body, raw, form, out);
    return true;
  }

  private resolve(body: string, raw: string, form: Mode, out: Segment[]) {
    const parsed = parseJsonLoose(body);
    if (!parsed.ok) return form === "tag" ? this.explain(parsed.reason, raw, out) : this.emit(raw, out);
    const items = Array.isArray(parsed.value) ? parsed.value : [parsed.value];
    const calls: Segment[] = [];
    for (const item of items) {
      const found = isObject(item) ? callOf(item) : undefined;
      const name = found && this.toolName(found.name);
      if (!found || !name) {
        if (form !== "tag") return this.emit(raw, out);
        const why = !found ? "it has no tool name" : `there is no tool named "${found.name}" (offered: ${this.tools.join(", ")})`;
        return this.explain(why, raw, out);
      }
      const args = repairToolArguments(found.args);
      if (!args.ok) return this.explain(`${args.reason} (tool ${name})`, raw, out);
      calls.push({ type: "call", name, input: args.input });
    }
    this.held = "";
    this.afterCall = true;
    this.calls += calls.length;
    if (calls.length === 1) (calls[0] as Extract<Segment, { type: "call" }>).raw = raw.trim();
    out.push(...calls);
  }

  private toolName(name: string): string | undefined {
    if (this.tools.includes(name)) return name;
    const ci = this.tools.filter((t) => t.toLowerCase() === name.toLowerCase());
    return ci.length === 1 ? ci[0] : undefined;
  }

  /** Never a tool_use with a broken input: the user and the model see why instead. */
  private explain(reason: string, raw: string, out: Segment[]) {
    const text = `${this.held ? "\n" : ""}[atrad: a tool call was not run because ${reason}. The model wrote: ${raw.trim()}]\n`;
    this.held = "";
    this.afterCall = true;
    const last = out.at(-1);
    if (last?.type === "text") last.text += text;
    else out.push({ type: "text", text });
  }

  /** Release text, holding back trailing whitespace (dropped if a call follows). */
  private emit(text: string, out: Segment[]) {
    if (!text) return;
    const nl = text.lastIndexOf("\n");
    this.lineBlank = nl >= 0 ? !text.slice(nl + 1).trim() : this.lineBlank && !text.trim();
    if (this.afterCall) {
      text = text.trimStart();
      if (!text) return;
      this.afterCall = false;
    }
    const body = text.trimEnd();
    const tail = text.slice(body.length);
    if (body) {
      const merged = this.held + body;
      const last = out.at(-1);
      if (last?.type === "text") last.text += merged;
      else out.push({ type: "text", text: merged });
      this.held = tail;
    } else this.held += tail;
  }
}

/**
 * The first close tag outside a JSON string: a Write of a file that mentions `</tool_call>`
 * must not end the call early.
 */
function closeTagAt(s: string, from: number): { index: number; length: number } | undefined {
  let inside = false;
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (inside) {
      if (c === "\\") i++;
      else if (c === '"') inside = false;
    } else if (c === '"') inside = true;
    else if (c === "<") {
      CLOSE_TAG.lastIndex = i;
      const m = CLOSE_TAG.exec(s);
      if (m) return { index: i, length: m[0].length };
    }
  }
  return undefined;
}

/** Index just past the object/array that starts at 0, or -1 when it is not closed yet. */
export function balancedEnd(s: string): number {
  let depth = 0;
  let end = -1;
  outsideStrings(s, (c, i) => {
    if (c === "{" || c === "[") depth++;
    else if ((c === "}" || c === "]") && --depth === 0) {
      end = i + 1;
      return true;
    }
  });
  return end;
}

function callOf(o: Record<string, unknown>): { name: string; args: unknown } | undefined {
  const fn = o.function;
  const name = o.name ?? o.tool ?? o.tool_name ?? (typeof fn === "string" ? fn : isObject(fn) ? fn.name : undefined);
  if (typeof name !== "string" || !name) return undefined;
  const args = "arguments" in o ? o.arguments : "input" in o ? o.input : "parameters" in o ? o.parameters : "args" in o ? o.args : isObject(fn) ? fn.arguments : undefined;
  return { name, args };
}
