/**
 * Tool-argument repair for weak local models (issue 3 §4). Small models often emit tool
 * arguments that are almost JSON: wrapped in a code fence, with trailing commas, single
 * quotes, Python literals or a missing closing brace. Claude Code cannot run a tool whose
 * `input` is not an object, so we repair what has one obvious reading (jsonrepair) and refuse
 * the rest with a reason the caller shows to the user as text.
 *
 * Refused on purpose: arguments that end inside a string. jsonrepair would close the string,
 * but that is a truncated generation (e.g. hit max_tokens mid-file) and a Write with half a
 * file is worse than no Write at all.
 */
import { isObject } from "../../anthropic/normalise.ts";
import { jsonrepair } from "jsonrepair";

export type RepairResult =
  | { ok: true; input: Record<string, unknown>; repaired: boolean }
  | { ok: false; reason: string };


function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return `a ${typeof v}`;
}

/**
 * Walk `text` as a model writes almost-JSON: quoted strings (double or single, with backslash
 * escapes) are stepped over, and `visit` sees each character outside them with its index; it
 * ends the walk by returning true. Returns the quote still open where the walk ended ("" if none).
 */
export function outsideStrings(text: string, visit: (c: string, i: number) => boolean | void = () => {}): string {
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (visit(c, i)) break;
  }
  return quote;
}

/** Whether `text` ends inside a quoted string, double or single (a cut-off generation). */
export function endsInsideString(text: string): boolean {
  return outsideStrings(text) !== "";
}

/** Strip a surrounding ``` fence (with or without an info string). */
function unfence(text: string): string {
  const m = /^\s*```[\w-]*\s*\n?([\s\S]*?)\n?\s*```\s*$/.exec(text);
  return m ? m[1]! : text.replace(/^```[a-zA-Z]*\s*/, "").replace(/\s*```$/, "");
}

export type Loose = { ok: true; value: unknown; repaired: boolean } | { ok: false; reason: string };

/** Parse almost-JSON (fenced, trailing commas, single quotes, unclosed braces) when unambiguous. */
export function parseJsonLoose(raw: string): Loose {
  const text = unfence(raw).trim();
  if (!text) return { ok: false, reason: "it is empty" };
  try {
    // Taking the JSON out of a code fence is a repair too.
    return { ok: true, value: JSON.parse(text), repaired: text !== raw.trim() };
  } catch {}
  if (endsInsideString(text)) return { ok: false, reason: "the arguments are cut off inside a string (the model's output was probably truncated)" };
  try {
    return { ok: true, value: JSON.parse(jsonrepair(text)), repaired: true };
  } catch (err) {
    return { ok: false, reason: `the arguments are not valid JSON and could not be repaired (${(err as Error).message})` };
  }
}

/**
 * Turn a tool call's `arguments` (a string from OpenAI-style servers, an object from Ollama,
 * text from a prompt-tools model) into an Anthropic `input` object, repairing when the repair
 * is unambiguous.
 */
export function repairToolArguments(raw: unknown): RepairResult {
  if (isObject(raw)) return { ok: true, input: raw, repaired: false };
  if (raw === undefined || raw === null) return { ok: true, input: {}, repaired: false };
  if (typeof raw !== "string") return { ok: false, reason: `the arguments are ${kindOf(raw)}, not a JSON object` };
  // A call without arguments is legitimate (a tool whose schema has no required fields).
  if (raw.trim() === "") return { ok: true, input: {}, repaired: false };
  const parsed = parseJsonLoose(raw);
  if (!parsed.ok) return parsed;
  if (isObject(parsed.value)) return { ok: true, input: parsed.value, repaired: parsed.repaired };
  // Double-encoded: the model (or server) serialised the arguments twice. Only a string that
  // parsed as-is counts; jsonrepair turns any bare text into a string, which is not that.
  if (typeof parsed.value === "string" && !parsed.repaired) {
    const inner = repairToolArguments(parsed.value);
    return inner.ok ? { ...inner, repaired: true } : inner;
  }
  return { ok: false, reason: `the arguments are ${kindOf(parsed.value)}, not a JSON object` };
}

const RAW_LIMIT = 2000;

/** The text shown instead of a tool call that could not be turned into a valid `tool_use`. */
export function unusableToolCallText(name: string, raw: unknown, reason: string): string {
  let shown = typeof raw === "string" ? raw : JSON.stringify(raw);
  if (shown.length > RAW_LIMIT) shown = `${shown.slice(0, RAW_LIMIT)}… (${shown.length - RAW_LIMIT} more characters)`;
  const who = name ? `tool "${name}"` : "a tool (with no name)";
  return `[atrad] The model tried to call ${who}, but the call was not usable: ${reason}. Raw arguments:\n${shown}`;
}
