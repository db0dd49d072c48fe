/**
 * cl100k_base byte-pair encoding, counted in bounded steps over compact tables.
 *
 * gpt-tokenizer publishes the vocabulary (its `data/cl100k_base.tiktoken`) and the split
 * pattern; what we do not take is its in-memory form and merge loop. As JavaScript strings in a
 * Map the tables keep ~45 MB resident for the life of the daemon, and its merge runs on a whole
 * pre-token: a 128 KB run of letters (a DNA sequence, a minified blob) is one pre-token whose
 * merge took ~98 s on the event loop. Here the 100,256 tokens sit in one byte array with an
 * open-addressing hash table (~2.5 MB in all), and a pre-token longer than MAX_PIECE characters
 * is counted in MAX_PIECE pieces, so the cost is linear in the text. Cutting a run that long
 * can move its count by a token per cut; ordinary prose and code never has one.
 * count.test.ts checks this count against gpt-tokenizer's own.
 */
import { readFileSync } from "node:fs";
import { CL100K_TOKEN_SPLIT_REGEX } from "gpt-tokenizer/encodingParams/constants";
import tablePath from "gpt-tokenizer/data/cl100k_base.tiktoken" with { type: "file" };

/** Longest pre-token merged whole, in UTF-16 units (a merge is quadratic in its length). */
export const MAX_PIECE = 128;

interface Tables {
  bytes: Uint8Array;
  /** Token rank r spans bytes[start[r]] … bytes[start[r + 1]]. */
  start: Uint32Array;
  /** Open addressing: rank + 1 per slot, 0 = empty. */
  slots: Int32Array;
  mask: number;
}

const B64 = new Int8Array(128).fill(-1);
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".split("").forEach((c, i) => (B64[c.charCodeAt(0)] = i));

function hash(buf: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h >>> 0;
}

/** Parse `base64token rank\n` lines straight from the file's bytes: no per-token strings. */
function build(file: Uint8Array): Tables {
  let lines = 0;
  for (let i = 0; i < file.length; i++) if (file[i] === 10) lines++;
  const bytes = new Uint8Array(file.length); // decoded base64 is ¾ of it, so this is enough
  const start = new Uint32Array(lines + 2);
  let out = 0;
  let rank = 0;
  let i = 0;
  while (i < file.length) {
    // Ranks in the file are 0, 1, 2, … in order; the number after the space is not needed.
    start[rank] = out;
    let acc = 0;
    let bits = 0;
    for (; i < file.length && file[i] !== 32; i++) {
      const v = B64[file[i]!]!;
      if (v < 0) continue; // "=" padding
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        bytes[out++] = (acc >> bits) & 0xff;
      }
    }
    while (i < file.length && file[i] !== 10) i++;
    i++;
    if (out > start[rank]!) rank++;
  }
  start[rank] = out;
  let size = 1;
  while (size < rank * 2) size <<= 1;
  const slots = new Int32Array(size);
  const mask = size - 1;
  for (let r = 0; r < rank; r++) {
    let s = hash(bytes, start[r]!, start[r + 1]!) & mask;
    while (slots[s] !== 0) s = (s + 1) & mask;
    slots[s] = r + 1;
  }
  return { bytes: bytes.slice(0, out), start: start.slice(0, rank + 1), slots, mask };
}

let tables: Tables | undefined;
const load = (): Tables => (tables ??= build(readFileSync(tablePath)));

/**
 * Forget the tables (the daemon calls this once it has gone quiet): ~2.5 MB that only
 * `count_tokens` and a prompt near a model's window need; the next count builds them again
 * (tens of ms).
 */
export function releaseTables(): void {
  tables = undefined;
}

/** The rank of buf[from, to) as one token, or -1. */
function rankOf(t: Tables, buf: Uint8Array, from: number, to: number): number {
  const len = to - from;
  let s = hash(buf, from, to) & t.mask;
  for (;;) {
    const r = t.slots[s]! - 1;
    if (r < 0) return -1;
    const a = t.start[r]!;
    if (t.start[r + 1]! - a === len) {
      let k = 0;
      while (k < len && t.bytes[a + k] === buf[from + k]) k++;
      if (k === len) return r;
    }
    s = (s + 1) & t.mask;
  }
}

const encoder = new TextEncoder();
const piece = new Uint8Array(MAX_PIECE * 3 + 4);
const bounds = new Int32Array(MAX_PIECE * 3 + 5);
const ranks = new Float64Array(MAX_PIECE * 3 + 5);

/** Tokens in one piece of at most MAX_PIECE UTF-16 units: the standard lowest-rank-first merge. */
function countPiece(t: Tables, text: string): number {
  const n = encoder.encodeInto(text, piece).written;
  if (n <= 1 || rankOf(t, piece, 0, n) >= 0) return n === 0 ? 0 : 1;
  // bounds[0..m] are the part boundaries; ranks[i] is the rank of parts i and i+1 merged.
  let m = n;
  for (let i = 0; i <= n; i++) bounds[i] = i;
  const pairRank = (i: number) => {
    if (i + 2 > m) return Infinity;
    const r = rankOf(t, piece, bounds[i]!, bounds[i + 2]!);
    return r < 0 ? Infinity : r;
  };
  for (let i = 0; i < m; i++) ranks[i] = pairRank(i);
  for (;;) {
    let best = Infinity;
    let at = -1;
    for (let i = 0; i < m - 1; i++) if (ranks[i]! < best) (best = ranks[i]!), (at = i);
    if (at < 0) break;
    bounds.copyWithin(at + 1, at + 2, m + 1);
    ranks.copyWithin(at + 1, at + 2, m);
    m--;
    ranks[at] = pairRank(at);
    if (at > 0) ranks[at - 1] = pairRank(at - 1);
  }
  return m;
}

/**
 * Count `text`, calling `pause` every few pieces so a caller can give the event loop a
 * turn; `pause` returning a promise makes the count wait for it.
 */
export async function countBpe(text: string, pause: () => Promise<void> | undefined): Promise<number> {
  const t = load();
  let n = 0;
  let steps = 0;
  const split = new RegExp(CL100K_TOKEN_SPLIT_REGEX.source, CL100K_TOKEN_SPLIT_REGEX.flags);
  for (const [match] of text.matchAll(split)) {
    for (let i = 0; i < match.length; ) {
      const end = match.length <= MAX_PIECE ? match.length : pieceEnd(match, i);
      n += countPiece(t, end - i === match.length ? match : match.slice(i, end));
      i = end;
      if (++steps >= 32) {
        steps = 0;
        const p = pause();
        if (p) await p;
      }
    }
  }
  return n;
}

/** Where the piece of s starting at i ends: MAX_PIECE on, not inside a surrogate pair. */
function pieceEnd(s: string, i: number): number {
  const end = Math.min(i + MAX_PIECE, s.length);
  const last = s.charCodeAt(end - 1);
  return end < s.length && last >= 0xd800 && last <= 0xdbff ? end - 1 : end;
}
