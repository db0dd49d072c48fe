/**
 * Token counts for `count_tokens`, usage of translated kinds, and Victoria's usage.
 *
 * Claude's own tokenizer is not published; cl100k_base (a real BPE tokenizer of similar
 * vocabulary size) counts within a few percent of it on English and code, which is what
 * Claude Code needs to show context use and decide when to compact. Images are counted at
 * Anthropic's documented ~1,600 tokens for a typical picture, since we don't decode them.
 */
// Loaded on first use: the cl100k tables cost ~35-60 MB of RSS, which a daemon serving only
// `anthropic`-kind upstreams (Ollama's native API counts its own tokens) never needs.
type CountTokens = (text: string) => number;
let countTokens: CountTokens | undefined;
const tokenizer = (): CountTokens =>
  (countTokens ??= (require("gpt-tokenizer/encoding/cl100k_base") as { countTokens: CountTokens }).countTokens);

const IMAGE_TOKENS = 1600;
// Per-message and per-tool framing the API adds around the content (role markers, tool wrappers).
const MESSAGE_OVERHEAD = 4;
const TOOL_OVERHEAD = 8;

/**
 * Claude Code resends the whole conversation every turn, so most text was counted before:
 * counts are memoised by a hash of the text (hashing is ~50× cheaper than BPE), in a bounded
 * map that forgets the oldest entries first. Short strings are cheaper to count than to hash.
 */
const memo = new Map<bigint | number, number>();
const MEMO_MAX = 4096;
const MEMO_MIN_CHARS = 256;

export function countText(text: string): number {
  if (!text) return 0;
  if (text.length < MEMO_MIN_CHARS) return tokenizer()(text);
  const key = Bun.hash(text);
  const hit = memo.get(key);
  if (hit !== undefined) return hit;
  const n = tokenizer()(text);
  if (memo.size >= MEMO_MAX) memo.delete(memo.keys().next().value!);
  memo.set(key, n);
  return n;
}

type Block = { type?: string; [k: string]: unknown };

function countBlock(block: Block): number {
  switch (block.type) {
    case "text":
      return countText(String(block.text ?? ""));
    case "thinking":
      return countText(String(block.thinking ?? ""));
    case "image":
    case "document":
      return IMAGE_TOKENS;
    case "tool_use":
      return countText(String(block.name ?? "")) + countText(JSON.stringify(block.input ?? {}));
    case "tool_result":
      return countContent(block.content as string | Block[] | undefined);
    default:
      return 0;
  }
}

export function countContent(content: string | Block[] | undefined): number {
  if (content === undefined) return 0;
  if (typeof content === "string") return countText(content);
  let n = 0;
  for (const b of content) n += countBlock(b);
  return n;
}

export interface Countable {
  system?: string | Block[];
  messages: Array<{ role: string; content: string | Block[] }>;
  tools?: Array<{ name: string; description?: string; input_schema?: unknown; [k: string]: unknown }>;
}

export function countRequestTokens(req: Countable): number {
  let n = countContent(req.system);
  for (const m of req.messages) n += MESSAGE_OVERHEAD + countContent(m.content);
  for (const t of req.tools ?? []) {
    n += TOOL_OVERHEAD + countText(t.name) + countText(t.description ?? "");
    if (t.input_schema) n += countText(JSON.stringify(t.input_schema));
  }
  return n;
}
