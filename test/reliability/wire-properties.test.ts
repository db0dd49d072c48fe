/**
 * Property tests (fast-check) on the upstream framers: however the bytes are cut, the lines
 * (NDJSON) and events (SSE) that come out are the ones a whole-body reading gives, and a frame
 * over the cap is always an error naming the target — never a frame, never a silent loss.
 */
import { describe, expect, test } from "bun:test";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import fc from "fast-check";
import { AtradError } from "../../src/anthropic/errors.ts";
import { NdjsonSplitter } from "../../src/wire/ndjson.ts";
import { SseSplitter } from "../../src/wire/sse.ts";

const RUNS = Number(process.env.ATRAD_PROPERTY_RUNS ?? 300);
const enc = new TextEncoder();

/** `bytes` cut at the given offsets (sorted, deduplicated, within range). */
function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const points = [...new Set(at.map((n) => n % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    if (p > from) out.push(bytes.subarray(from, p));
    from = p;
  }
  return out;
}

/** Feed a splitter every piece, then end it: what came out before it threw, and what it threw (if it did). */
function splitAll<T>(s: { push(b: Uint8Array): T[]; end(): T[] }, pieces: Uint8Array[]): { out: T[]; err: unknown } {
  const out: T[] = [];
  try {
    for (const b of pieces) out.push(...s.push(b));
    out.push(...s.end());
  } catch (err) {
    return { out, err };
  }
  return { out, err: undefined };
}

/** Text of any characters (multi-byte, CR, and the odd line break) — the framers' raw input. */
const piece = fc.oneof(fc.string({ unit: "grapheme", maxLength: 40 }), fc.constantFrom("\r", "\n", "\r\n", "é", "日本", "🚀", ":", "data: ", "event: x", " "));
const body = fc.array(piece, { maxLength: 40 }).map((p) => p.join(""));
const cuts = fc.array(fc.nat(), { maxLength: 30 });

describe("property: NDJSON framing does not depend on where bytes are cut", () => {
  test("the lines are the body's non-blank lines, in order", () => {
    fc.assert(
      fc.property(body, cuts, (text, at) => {
        const s = new NdjsonSplitter("p/m");
        const lines = cut(enc.encode(text), at).flatMap((b) => s.push(b));
        lines.push(...s.end());
        expect(lines).toEqual(text.split("\n").filter((l) => l.trim()));
      }),
      { numRuns: RUNS },
    );
  });

  test("a line over the cap is an error naming the target, whatever the cuts", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 64 }), cuts, (max, over, at) => {
        const s = new NdjsonSplitter("p/m", { maxFrameBytes: max });
        const text = `${"a".repeat(max)}\n${"b".repeat(max + over)}\n`;
        const { out: lines, err } = splitAll(s, cut(enc.encode(text), at));
        expect(lines).toEqual(["a".repeat(max)]);
        expect(err).toBeInstanceOf(AtradError);
        expect((err as AtradError).message).toStartWith("p/m sent a line longer than");
      }),
      { numRuns: RUNS },
    );
  });
});

describe("property: SSE framing does not depend on where bytes are cut", () => {
  test("the events are what eventsource-parser gives for the whole body", () => {
    fc.assert(
      fc.property(body, cuts, (text, at) => {
        const whole: EventSourceMessage[] = [];
        const p = createParser({ onEvent: (m) => whole.push(m) });
        p.feed(text);
        p.reset({ consume: true });
        const s = new SseSplitter("p/m");
        const events = cut(enc.encode(text), at).flatMap((b) => s.push(b));
        events.push(...s.end());
        expect(events).toEqual(whole);
      }),
      { numRuns: RUNS },
    );
  });

  test("an event over the cap is an error naming the target; the events before it still go out", () => {
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 64 }), fc.integer({ min: 1, max: 64 }), fc.boolean(), cuts, (max, over, oneLine, at) => {
        const s = new SseSplitter("p/m", { maxFrameBytes: max });
        const big = oneLine ? `data: ${"b".repeat(max + over)}\n\n` : "data: b\n".repeat(max + over);
        const text = `data: a\n\n${big}`;
        const { out: events, err } = splitAll(s, cut(enc.encode(text), at));
        expect(events.map((e) => e.data)).toEqual(["a"]);
        expect(err).toBeInstanceOf(AtradError);
        expect((err as AtradError).message).toMatch(/^p\/m sent (a line|an event) longer than/);
      }),
      { numRuns: RUNS },
    );
  });
});
