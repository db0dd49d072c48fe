/**
 * Schema errors in words a person can act on: the key path, and instead of TypeBox's
 * "Expected union value" the values that are allowed; instead of "Unexpected property" the
 * key they probably meant. A union tagged with a `discriminator` (the providers' `kind`) is
 * checked against the one member its tag picks, so a key of another kind is named as such.
 */
import type { TObject, TSchema } from "@sinclair/typebox";
import { Value, ValueErrorType, type ValueError } from "@sinclair/typebox/value";
import { distance } from "fastest-levenshtein";

export function explain(schema: TSchema, value: unknown, at: string[] = []): string[] {
  // Check first: walking a valid document for errors (a generator per node) is what made
  // every CLI command that reads the config ~5-15 ms slower than it needed to be.
  if (Value.Check(schema, value)) return [];
  const out: string[] = [];
  for (const e of Value.Errors(schema, value)) out.push(...explainOne(e, at));
  return [...new Set(out)];
}

function explainOne(e: ValueError, at: string[]): string[] {
  const path = [...at, ...segments(e.path)];
  const where = keyPath(path);
  const s = e.schema as TSchema & { discriminator?: string; anyOf?: TSchema[] };
  if (e.type === ValueErrorType.Union && s.discriminator) return tagged(s.anyOf ?? [], s.discriminator, e.value, path);
  if (e.type === ValueErrorType.Union || e.type === ValueErrorType.Literal)
    return [`${where}: ${show(e.value)} is not allowed; use ${alternatives(s).join(" | ")}`];
  if (e.type === ValueErrorType.ObjectAdditionalProperties) return [unknownKey(s as TObject, path)];
  return [`${where}: ${e.message.toLowerCase()}${e.value === undefined ? "" : ` (got ${show(e.value)})`}`];
}

function tagged(members: TSchema[], tag: string, value: unknown, path: string[]): string[] {
  const tags = members.map((m) => (m as TObject).properties?.[tag]?.const as string);
  const allowed = tags.map((t) => JSON.stringify(t)).join(" | ");
  if (!value || typeof value !== "object" || Array.isArray(value)) return [`${keyPath(path)}: must be a table`];
  const got = (value as Record<string, unknown>)[tag];
  if (got === undefined) return [`${keyPath([...path, tag])}: required (one of ${allowed})`];
  const member = members[tags.indexOf(got as string)];
  if (!member) return [`${keyPath([...path, tag])}: ${show(got)} is not allowed; use ${allowed}`];
  // The union's defaults were not applied (no member matched): apply the picked member's.
  return explain(member, Value.Default(member, structuredClone(value)), path).map((msg) => withOwner(msg, members, tag, String(got)));
}

/** "unknown key" of one member of a tagged union: say which other members take the key. */
function withOwner(msg: string, members: TSchema[], tag: string, got: string): string {
  const m = /^(.*)\.([^.]+): unknown key/.exec(msg);
  if (!m) return msg;
  const owners = members.filter((x) => (x as TObject).properties?.[m[2]!]).map((x) => (x as TObject).properties[tag]!.const as string);
  return owners.length ? `${m[1]}.${m[2]}: unknown key for ${tag} = "${got}"; only ${owners.map((o) => `${tag} = "${o}"`).join(" or ")} ${owners.length > 1 ? "take" : "takes"} it` : msg;
}

function unknownKey(schema: TObject, path: string[]): string {
  const key = path.at(-1)!;
  const where = keyPath(path);
  const known = Object.keys(schema.properties ?? {});
  // A record (names chosen by the user) has no keys to suggest, only a pattern to meet.
  if (!known.length) {
    const pattern = Object.keys((schema as { patternProperties?: object }).patternProperties ?? {})[0];
    return `${where}: ${JSON.stringify(key)} is not a valid name${pattern ? ` (letters, digits, "_", "." and "-" only)` : ""}`;
  }
  const near = nearest(key, known);
  return `${where}: unknown key${near ? `; did you mean \`${near}\`?` : ` (known: ${known.join(", ")})`}`;
}

/** The closest known key, if it is close enough to be a typo (two edits, or a third of the word). */
export function nearest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) && bestDistance < word.length ? best : undefined;
}

/** What a value may be, in config terms: literals quoted, other types described. */
function alternatives(s: TSchema): string[] {
  if ("const" in s) return [JSON.stringify(s.const)];
  if (Array.isArray(s.anyOf)) return (s.anyOf as TSchema[]).flatMap(alternatives);
  const type = s.type as string | undefined;
  if (type === "integer" || type === "number") {
    const word = type === "integer" ? "an integer" : "a number";
    return [s.minimum !== undefined ? `${word} ≥ ${s.minimum}` : word];
  }
  return [type ? `a ${type}` : "another value"];
}

function segments(pointer: string): string[] {
  return pointer
    .split("/")
    .slice(1)
    .map((p) => p.replaceAll("~1", "/").replaceAll("~0", "~"));
}

export function keyPath(parts: string[]): string {
  if (!parts.length) return "(top level)";
  return parts.map((p, i) => (/^\d+$/.test(p) && i > 0 ? `[${p}]` : /^[A-Za-z0-9_-]+$/.test(p) ? p : JSON.stringify(p))).join(".").replaceAll(".[", "[");
}

function show(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : v === undefined ? "nothing" : JSON.stringify(v) ?? String(v);
}
