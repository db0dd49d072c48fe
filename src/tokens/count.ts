/**
 * Token counts for `count_tokens`, and estimates for the usage atrad reports itself.
 *
 * Claude's own tokenizer is not published; cl100k_base (a real BPE tokenizer of similar
 * vocabulary size) counts within a few percent of it on English and code, which is what
 * Claude Code needs to show context use and decide when to compact. Images are counted at
 * Anthropic's documented ~1,600 tokens for a typical picture, since we don't decode them.
 *
 * Two entry points, because they have different costs to bound:
 * - `countRequestTokens` (the `count_tokens` endpoint) runs the BPE, giving the event loop a
 *   turn every few milliseconds, so a megabyte of adversarial text delays nobody else.
 * - `estimateRequestTokens` / `estimateTokens` (the `message_start` preview and output counts
 *   of translated kinds, which the upstream's own figures replace when it sends them) read only
 *   the text's length: a linear scan, no tables.
 */
import { countBpe, releaseTables } from "./bpe.ts";

export { releaseTables as releaseTokenizer };

const IMAGE_TOKENS = 1600;
// Per-message and per-tool framing the API adds around the content (role markers, tool wrappers).
const MESSAGE_OVERHEAD = 4;
const TOOL_OVERHEAD = 8;
/** Longest stretch of counting before the event loop gets a turn. */
const SLICE_MS = 4;

type Block = { type?: string; [k: string]: unknown };

export interface Countable {
  system?: string | Block[];
  messages: Array<{ role: string; content: string | Block[] }>;
  tools?: Array<{ name: string; description?: string; input_schema?: unknown; [k: string]: unknown }>;
}

/** What a request consists of for counting: texts, and fixed counts (framing, images). */
function* parts(req: Countable): Generator<string | number> {
  yield* contentParts(req.system);
  for (const m of req.messages ?? []) {
    yield MESSAGE_OVERHEAD;
    yield* contentParts(m.content);
  }
  for (const t of req.tools ?? []) {
    yield TOOL_OVERHEAD;
    yield String(t.name ?? "");
    yield String(t.description ?? "");
    if (t.input_schema) yield JSON.stringify(t.input_schema);
  }
}

function* contentParts(content: string | Block[] | undefined): Generator<string | number> {
  if (content === undefined || content === null) return;
  if (typeof content === "string") return yield content;
  if (!Array.isArray(content)) return;
  for (const block of content) yield* blockParts(block);
}

function* blockParts(block: Block): Generator<string | number> {
  switch (block?.type) {
    case "text":
      return yield String(block.text ?? "");
    case "thinking":
      return yield String(block.thinking ?? "");
    case "image":
    case "document":
      return yield IMAGE_TOKENS;
    case "tool_use":
      yield String(block.name ?? "");
      return yield JSON.stringify(block.input ?? {});
    case "tool_result":
      return yield* contentParts(block.content as string | Block[] | undefined);
    default:
      return;
  }
}

/**
 * A cheap, linear estimate of cl100k's count: about four ASCII characters per token (within
 * ~10 % on English, code and JSON) and one per other UTF-16 unit (CJK text is about one a
 * character). No tables, so nothing stays resident for it.
 */
export function estimateTokens(text: string): number {
  let other = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 127) other++;
  return Math.ceil((text.length - other) / 4) + other;
}

/**
 * One request's estimate, kept while the request object lives: the router's window check, the
 * adapter's usage and the `message_start` preview each ask for it, and it walks every character
 * of the prompt (Claude Code's are 50-100k characters). A checked request is not changed after
 * it is read; a translation that changes it makes a new object, estimated on its own.
 */
const estimates = new WeakMap<object, number>();

/** The `message_start` preview of a translated kind: an estimate, never the BPE. */
export function estimateRequestTokens(req: Countable): number {
  const known = estimates.get(req);
  if (known !== undefined) return known;
  let n = 0;
  for (const p of parts(req)) n += typeof p === "number" ? p : estimateTokens(p);
  estimates.set(req, n);
  return n;
}

/**
 * Claude Code resends the whole conversation every turn, so most text was counted before:
 * counts are memoised by a hash of the text (hashing is far cheaper than BPE), in a bounded
 * map that forgets the oldest entries first. Short strings are cheaper to count than to hash.
 */
const memo = new Map<bigint | number, number>();
const MEMO_MAX = 4096;
const MEMO_MIN_CHARS = 256;

/** The BPE count of one text; `pause` as in countBpe. */
async function countText(text: string, pause: () => Promise<void> | undefined): Promise<number> {
  if (!text) return 0;
  if (text.length < MEMO_MIN_CHARS) return countBpe(text, pause);
  const key = Bun.hash(text);
  const hit = memo.get(key);
  if (hit !== undefined) return hit;
  const n = await countBpe(text, pause);
  if (memo.size >= MEMO_MAX) memo.delete(memo.keys().next().value!);
  memo.set(key, n);
  return n;
}

/** A pause function that yields to the event loop once SLICE_MS of counting has passed. */
function slicer(): () => Promise<void> | undefined {
  let since = performance.now();
  return () => {
    if (performance.now() - since < SLICE_MS) return undefined;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        since = performance.now();
        resolve();
      }),
    );
  };
}

/** `count_tokens`: the BPE count of a whole request, in slices of at most a few ms. */
export async function countRequestTokens(req: Countable): Promise<number> {
  const pause = slicer();
  let n = 0;
  for (const p of parts(req)) n += typeof p === "number" ? p : await countText(p, pause);
  return n;
}

/** The BPE count of one text (tests compare it with gpt-tokenizer's). */
export function countTextTokens(text: string): Promise<number> {
  return countText(text, slicer());
}
