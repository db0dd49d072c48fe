/**
 * Tool-argument repair for weak local models (issue 3 §4). Repairs only what jsonrepair fixes
 * deterministically — code fences, trailing commas, single quotes, unquoted keys, Python
 * literals, unclosed braces — and only accepts a result that is a JSON object: a `tool_use`
 * whose input is not an object would break the client, so callers say what went wrong instead.
 */
import { jsonrepair } from "jsonrepair";

export type Parsed<T> = { ok: true; value: T; repaired: boolean } | { ok: false; reason: string };

/** Strip a surrounding ``` fence (with or without an info string). */
function unfence(text: string): string {
  const m = /^\s*```[\w-]*\s*\n?([\s\S]*?)\n?\s*```\s*$/.exec(text);
  return m ? m[1]! : text;
}

/** Parse JSON text, repairing it when plain parsing fails. */
export function parseJsonLoose(text: string): Parsed<unknown> {
  const src = unfence(text).trim();
  if (!src) return { ok: false, reason: "it is empty" };
  try {
    return { ok: true, value: JSON.parse(src), repaired: false };
  } catch (err) {
    // Closing a cut-off string would invent its end (a Write whose content silently stops
    // half-way): that repair is not unambiguous, so it is refused.
    if (endsInsideString(src)) return { ok: false, reason: "it is cut off inside a string" };
    try {
      return { ok: true, value: JSON.parse(jsonrepair(src)), repaired: true };
    } catch {
      return { ok: false, reason: `it is not valid JSON (${(err as Error).message})` };
    }
  }
}

export function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/**
 * Tool arguments as an object: objects pass, strings are parsed (servers and models that send
 * `arguments` as a JSON string), empty means `{}`. Anything else is a failure with a reason.
 */
export function coerceArguments(args: unknown): Parsed<Record<string, unknown>> {
  if (args === undefined || args === null) return { ok: true, value: {}, repaired: false };
  if (isPlainObject(args)) return { ok: true, value: args, repaired: false };
  if (typeof args === "string") {
    if (!args.trim()) return { ok: true, value: {}, repaired: false };
    const parsed = parseJsonLoose(args);
    if (!parsed.ok) return parsed;
    if (!isPlainObject(parsed.value)) return { ok: false, reason: `the arguments are ${describe(parsed.value)}, not a JSON object` };
    return { ok: true, value: parsed.value, repaired: parsed.repaired };
  }
  return { ok: false, reason: `the arguments are ${describe(args)}, not a JSON object` };
}

function describe(x: unknown): string {
  if (Array.isArray(x)) return "an array";
  if (x === null) return "null";
  return `a ${typeof x}`;
}

/** Whether the text ends inside a double-quoted JSON string. */
export function endsInsideString(s: string): boolean {
  let inside = false;
  for (let i = 0; i < s.length; i++) {
    if (inside && s[i] === "\\") i++;
    else if (s[i] === '"') inside = !inside;
  }
  return inside;
}
