import { describe, expect, test } from "bun:test";
import { AtradError } from "../anthropic/errors.ts";
import { UpstreamBody, readPrefix, readText } from "./body.ts";
import { plainCause } from "./cause.ts";
import { ndjsonLines, NdjsonSplitter } from "./ndjson.ts";
import { isPing, sseEvents, SseSplitter } from "./sse.ts";

const enc = new TextEncoder();

/** Bytes cut at every `step` (1 = byte by byte, through multi-byte characters too). */
function pieces(text: string, step: number): Uint8Array[] {
  const bytes = enc.encode(text);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += step) out.push(bytes.subarray(i, i + step));
  return out;
}

function stream(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    pull(c) {
      const next = chunks.shift();
      if (next) c.enqueue(next);
      else c.close();
    },
  });
}

/** A body that sends `chunks`, then nothing more, ever (until cancelled). */
function hanging(chunks: Uint8Array[], onCancel?: () => void): ReadableStream<Uint8Array> {
  return new ReadableStream({
    pull(c) {
      const next = chunks.shift();
      if (next) c.enqueue(next);
      else return new Promise(() => {});
    },
    cancel: () => onCancel?.(),
  });
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function failure(p: Promise<unknown>): Promise<AtradError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AtradError);
    return err as AtradError;
  }
  throw new Error("expected a failure");
}

describe("NdjsonSplitter", () => {
  const text = '{"a":"é"}\n\n{"b":2}\r\n  \n{"c":"日本"}';
  const cases: Array<[string, number]> = [["whole", 1 << 20], ["byte by byte", 1], ["3 bytes", 3], ["7 bytes", 7]];
  for (const [name, step] of cases) {
    test(`lines split ${name}: blank lines dropped, the last line without a newline kept`, () => {
      const s = new NdjsonSplitter("p/m");
      const lines = pieces(text, step).flatMap((b) => s.push(b));
      lines.push(...s.end());
      expect(lines.map((l) => JSON.parse(l))).toEqual([{ a: "é" }, { b: 2 }, { c: "日本" }]);
    });
  }

  test("a line exactly at the cap passes; one byte more is an error naming the target", () => {
    const s = new NdjsonSplitter("p/m", { maxFrameBytes: 10 });
    expect(s.push(enc.encode("0123456789\n"))).toEqual(["0123456789"]);
    const err = (() => {
      try {
        s.push(enc.encode("0123456789A"));
      } catch (e) {
        return e as AtradError;
      }
    })();
    expect(err?.status).toBe(502);
    expect(err?.message).toStartWith("p/m sent a line longer than");
  });

});

describe("a frame past the cap is an error naming the target, however many pieces it comes in", () => {
  test.each([
    { name: "NDJSON: endless bytes without a newline", splitter: () => new NdjsonSplitter("p/m", { maxFrameBytes: 1000 }), piece: "zzzzz", error: "p/m sent a line longer than" },
    { name: "SSE: an event whose data comes in many lines", splitter: () => new SseSplitter("p/m", { maxFrameBytes: 100 }), piece: "data: 0123456789\n", error: "p/m sent an event longer than" },
    { name: "SSE: a run without any line ending, which the parser would skip", splitter: () => new SseSplitter("p/m", { maxFrameBytes: 100 }), piece: "garbage!!!", error: "p/m sent a line longer than" },
  ])("$name", ({ splitter, piece, error }) => {
    const s = splitter();
    expect(() => {
      for (let i = 0; i < 1000; i++) s.push(enc.encode(piece));
    }).toThrow(error);
  });
});

describe("SseSplitter", () => {
  const text = 'event: a\ndata: {"x":\ndata: 1}\n\n: a comment\n\nevent: ping\ndata: {"type":"ping"}\n\r\ndata: plain\r\n\r\n';
  for (const step of [1, 2, 5, 1 << 20]) {
    test(`events split every ${step} bytes: multi-line data joined, comments skipped, CRLF`, () => {
      const s = new SseSplitter("p/m");
      const events = pieces(text, step).flatMap((b) => s.push(b));
      events.push(...s.end());
      expect(events.map((e) => [e.event, e.data])).toEqual([
        ["a", '{"x":\n1}'],
        ["ping", '{"type":"ping"}'],
        [undefined, "plain"],
      ]);
      expect(JSON.parse(events[0]!.data)).toEqual({ x: 1 });
    });
  }

  test("pings by name or by data type", () => {
    expect(isPing({ event: "ping", data: "{}", id: undefined })).toBe(true);
    expect(isPing({ event: undefined, data: '{ "type" : "ping" }', id: undefined })).toBe(true);
    expect(isPing({ event: "message", data: '{"type":"pingx"}', id: undefined })).toBe(false);
    expect(isPing({ event: "content_block_delta", data: '{"type":"content_block_delta"}', id: undefined })).toBe(false);
  });
});

describe("UpstreamBody deadlines", () => {
  test("comments only: the idle deadline ends the read, names the key, and hangs up", async () => {
    let cancelled = false;
    const comments = Array.from({ length: 5 }, () => enc.encode(": keep-alive\n\n"));
    const err = await failure(collect(sseEvents(hanging(comments, () => (cancelled = true)), { target: "p/m", idleMs: 50, idleKey: "providers.p.timeout_s" })));
    expect(err.type).toBe("timeout_error");
    expect(err.message).toContain("p/m sent no content");
    expect(err.message).toContain("providers.p.timeout_s");
    expect(cancelled).toBe(true);
  });

  test("a stream that keeps sending content is still ended by the total deadline", async () => {
    let n = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        await Bun.sleep(10);
        c.enqueue(enc.encode(`{"n":${n++}}\n`));
      },
    });
    const got: string[] = [];
    const err = await failure(
      (async () => {
        for await (const line of ndjsonLines(body, { target: "p/m", totalMs: 300, totalKey: "providers.p.response_deadline_s" })) got.push(line);
      })(),
    );
    expect(err.message).toContain("did not finish its response within 0.3s (providers.p.response_deadline_s)");
    expect(got.length).toBeGreaterThan(0);
  });

  test("a read failure is the target's, in plain words", async () => {
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.error(Object.assign(new TypeError("ECONNRESET: The socket connection was closed unexpectedly. For more information, pass `verbose: true` in the second argument to fetch()"), { code: "ECONNRESET" }));
      },
    });
    const err = await failure(collect(new UpstreamBody(body, { target: "p/m" }).chunks()));
    expect(err.status).toBe(502);
    expect(err.message).toBe("p/m broke off its response: the connection was closed before the answer was complete");
  });

  test("the client leaving is not re-worded: the AbortError passes through", async () => {
    const body = new ReadableStream<Uint8Array>({ start: (c) => c.error(new DOMException("client disconnected", "AbortError")) });
    await expect(collect(new UpstreamBody(body, { target: "p/m" }).chunks())).rejects.toThrow("client disconnected");
  });
});

describe("whole bodies", () => {
  test("readText: capped like a frame", async () => {
    expect(await readText(stream(pieces("x".repeat(100), 7)), { target: "p/m" })).toBe("x".repeat(100));
    const err = await failure(readText(stream(pieces("x".repeat(100), 7)), { target: "p/m", maxFrameBytes: 50 }));
    expect(err.message).toStartWith("p/m sent a body longer than");
  });

  test("readPrefix: the first bytes, the rest unread", async () => {
    let cancelled = false;
    const body = hanging(pieces("y".repeat(1000), 100), () => (cancelled = true));
    expect(await readPrefix(body, 250)).toBe("y".repeat(250));
    expect(cancelled).toBe(true);
  });
});

describe("plainCause", () => {
  const cases: Array<[string, unknown, string]> = [
    ["reset", Object.assign(new Error("ECONNRESET: The socket connection was closed unexpectedly. For more information, pass `verbose: true`…"), { code: "ECONNRESET" }), "the connection was closed before the answer was complete"],
    ["refused", Object.assign(new Error("Unable to connect. Is the computer able to access the url?"), { code: "ConnectionRefused" }), "connection refused"],
    ["dns", Object.assign(new Error("getaddrinfo ENOTFOUND x.invalid"), { code: "ENOTFOUND" }), "its host name does not resolve"],
    ["code only in the message", new Error("EHOSTUNREACH: no route"), "its host is unreachable"],
    ["unknown, advice stripped", new Error("ESOMETHING: odd. For more information, pass `verbose: true` in the second argument to fetch()"), "odd."],
  ];
  for (const [name, err, want] of cases) test(name, () => expect(plainCause(err)).toBe(want));
});
