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
import { jsonrepair } from "jsonrepair";

export type RepairResult =
  | { ok: true; input: Record<string, unknown>; repaired: boolean }
  | { ok: false; reason: string };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return `a ${typeof v}`;
}

/** Whether `text` ends inside a quoted string, double or single (a cut-off generation). */
export function endsInsideString(text: string): boolean {
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
  }
  return quote !== "";
}

/**
 * Turn a tool call's `arguments` (a string from OpenAI-style servers, sometimes already an
 * object) into an Anthropic `input` object, repairing when the repair is unambiguous.
 */
export function repairToolArguments(raw: unknown): RepairResult {
  if (isPlainObject(raw)) return { ok: true, input: raw, repaired: false };
  if (raw === undefined || raw === null) return { ok: true, input: {}, repaired: false };
  if (typeof raw !== "string") return { ok: false, reason: `arguments are ${kindOf(raw)}, not a JSON object` };
  const text = raw.trim();
  // A call without arguments is legitimate (a tool whose schema has no required fields).
  if (text === "") return { ok: true, input: {}, repaired: false };

  let direct: unknown;
  let parsed = false;
  try {
    direct = JSON.parse(text);
    parsed = true;
  } catch {}
  if (parsed) {
    if (isPlainObject(direct)) return { ok: true, input: direct, repaired: false };
    // Double-encoded: the model (or server) serialised the arguments twice.
    if (typeof direct === "string") {
      const inner = repairToolArguments(direct);
      return inner.ok ? { ...inner, repaired: true } : inner;
    }
    return { ok: false, reason: `arguments are ${kindOf(direct)}, not a JSON object` };
  }

  const unfenced = text.replace(/^```[a-zA-Z]*\s*/, "").replace(/\s*```$/, "");
  if (endsInsideString(unfenced)) {
    return { ok: false, reason: "arguments end inside a string (the model's output was probably cut off)" };
  }
  let fixed: unknown;
  try {
    fixed = JSON.parse(jsonrepair(unfenced));
  } catch (err) {
    return { ok: false, reason: `arguments are not valid JSON and could not be repaired (${(err as Error).message})` };
  }
  if (!isPlainObject(fixed)) return { ok: false, reason: `arguments are ${kindOf(fixed)} after repair, not a JSON object` };
  return { ok: true, input: fixed, repaired: true };
}

const RAW_LIMIT = 2000;

/** The text shown instead of a tool call that could not be turned into a valid `tool_use`. */
export function unusableToolCallText(name: string, raw: unknown, reason: string): string {
  let shown = typeof raw === "string" ? raw : JSON.stringify(raw);
  if (shown.length > RAW_LIMIT) shown = `${shown.slice(0, RAW_LIMIT)}… (${shown.length - RAW_LIMIT} more characters)`;
  const who = name ? `tool "${name}"` : "a tool (with no name)";
  return `[atrad] The model tried to call ${who}, but the call was not usable: ${reason}. Raw arguments:\n${shown}`;
}
