/**
 * Reading a JSON request body within the size limit and checking it against a TypeBox schema.
 * Errors are Anthropic-shaped and say what to fix; Elysia's own parser and its 422 are not used
 * (and its `normalize` silently strips fields not in the schema, which we must forward).
 */
import { FormatRegistry, type TSchema, type Static } from "@sinclair/typebox";
import { TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import { Hash } from "@sinclair/typebox/value";
import type { ValueError } from "@sinclair/typebox/errors";
import { AtradError, invalidRequest } from "../anthropic/errors.ts";

const MAX_DEPTH = 64;

export function compileSchema<T extends TSchema>(schema: T): TypeCheck<T> {
  return TypeCompiler.Compile(schema);
}

type CheckFactory = (kind: unknown, format: unknown, hash: unknown) => (value: unknown) => boolean;

/**
 * A validator from code TypeBox's compiler generated at build time (checks.gen.ts), with what
 * TypeBox's own Compile hands generated code: format and hash lookups (custom kinds are not
 * used by these schemas, so none is registered).
 */
export function precompiledCheck<T extends TSchema>(schema: T, factory: CheckFactory): TypeCheck<T> {
  const format = (name: string, value: unknown) => FormatRegistry.Get(name)?.(value as string) ?? false;
  return new TypeCheck(schema, [], factory(() => false, format, Hash), "");
}

export async function readJson<T extends TSchema>(request: Request, check: TypeCheck<T>, maxBytes: number): Promise<Static<T>> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const bytes = await request.arrayBuffer().catch(() => {
    throw invalidRequest("could not read the request body");
  });
  if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
  if (bytes.byteLength === 0) throw invalidRequest("request body is empty: send a JSON object");
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw invalidRequest(`request body is not valid JSON: ${(err as Error).message}`);
  }
  if (depthExceeds(value, MAX_DEPTH)) throw invalidRequest(`request body nests deeper than ${MAX_DEPTH} levels`);
  if (!check.Check(value)) {
    const first = precise(check.Errors(value).First());
    const where = first?.path ? first.path.slice(1).replaceAll("/", ".") : "body";
    throw invalidRequest(`${where || "body"}: ${first?.message ?? "invalid"}`);
  }
  return value as Static<T>;
}

/**
 * A union's own error ("Expected union value") names no field. Descend into the variant the
 * value meant — not one whose `type` it fails — and report the deepest problem there, e.g.
 * `messages.0.content.0.text: Expected string` for a text block whose text is a number.
 */
function precise(error: ValueError | undefined): ValueError | undefined {
  if (!error?.errors?.length) return error;
  let best: ValueError | undefined;
  for (const variant of error.errors) {
    const errors = [...variant].slice(0, 16);
    if (!errors.length || errors.some((e) => e.path === `${error.path}/type`)) continue;
    const deepest = precise(errors[0]);
    if (deepest && deepest.path.length > (best?.path.length ?? error.path.length - 1)) best = deepest;
  }
  return best ?? error;
}


/** Longer than any real model id (`provider/hf.co/org/repo:quant` included). */
export const MAX_MODEL_NAME = 256;
/** Control characters, line and paragraph separators, bidi/format characters, lone surrogates. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

/**
 * A model name becomes a routing key, a response header and a log field: it is printable text
 * of sane length, or the request is refused here, before anything else sees it.
 */
export function checkModelName(model: string): void {
  if (model.length > MAX_MODEL_NAME) throw invalidRequest(`model: the name is ${model.length} characters long; at most ${MAX_MODEL_NAME} are allowed (see GET /v1/models for the names atrad serves)`);
  const bad = UNPRINTABLE.exec(model);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    throw invalidRequest(`model: the name contains the unprintable character U+${code} at position ${bad.index}; send a plain model name (see GET /v1/models)`);
  }
}

export function tooLarge(maxBytes: number) {
  return new AtradError("request_too_large", `request body exceeds ${Math.round(maxBytes / 1024 / 1024)} MB (server.max_body_mb)`);
}

function depthExceeds(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (d > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === "object") stack.push([child, d + 1]);
  }
  return false;
}
