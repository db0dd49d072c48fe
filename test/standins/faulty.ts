/**
 * A fault-injecting upstream on a raw TCP socket, so it can do what a well-behaved HTTP server
 * never would: reset mid-stream, send garbage, stall before or after the headers, send a huge
 * body, or answer 200 with an error. It speaks the three streaming protocols atrad calls —
 * OpenAI SSE (`/v1/chat/completions`), Ollama NDJSON (`/api/chat`) and Anthropic SSE
 * (`/v1/messages`) — and the fault is picked by the request's `model` name, so one stand-in
 * serves a whole test matrix. It counts open connections, so tests can assert none leak.
 */
import type { Socket, TCPSocketListener } from "bun";
import { anthropicText, ndjsonLine, sseData, sseEvent } from "./base.ts";

export const FAULTS = ["ok", "reset", "close-mid", "garbage", "stall-headers", "stall-mid", "huge-error", "huge-stream", "huge-line", "error-200", "slow", "empty-200", "bad-status-line"] as const;
/**
 * Faults against atrad's bounds on upstream input, kept out of the matrix above (some never
 * end on their own): `line-50mb` (one 50 MB line after the first frame), `endless` (bytes
 * without a line ending until atrad hangs up), `comments` (SSE comments / pings / blank
 * NDJSON lines forever, no content), `drip` (a valid stream: its first delta at once, then one byte per `dripMs`),
 * `redirect` (307 to `redirectTo`), `multiline` (a spec-valid SSE event whose `data:` spans
 * two lines), `newline-type` (an Anthropic event whose type holds a line break and a forged
 * frame). A POST to Victoria's `/run` answers 429 with `retry-after: 7`.
 */
export const LIMIT_FAULTS = ["line-50mb", "endless", "comments", "drip", "redirect", "multiline", "newline-type"] as const;
export type Fault = (typeof FAULTS)[number] | (typeof LIMIT_FAULTS)[number];

export interface Faulty {
  url: string;
  port: number;
  /** Connections open right now (a leak shows up as a count that does not return to 0). */
  open: number;
  /** Requests received, per fault. */
  hits: Record<string, number>;
  /** Connections the client (atrad) closed before the stand-in finished its answer. */
  abandoned: number;
  /** Bytes sent per `slow` chunk interval (ms). */
  slowDelayMs: number;
  /** Milliseconds between the bytes of a `drip` stream. */
  dripMs: number;
  /** Where `redirect` points (a base URL; the request path is appended). */
  redirectTo: string;
  /** Bytes of the current request's body atrad sent, per fault (what a redirect would resend). */
  bodies: Record<string, string>;
  stop(): Promise<void>;
}

type Proto = "openai" | "ollama" | "anthropic";

interface Conn {
  buf: Buffer;
  done: boolean;
  timers: Array<ReturnType<typeof setTimeout>>;
  /** Bytes the kernel has not taken yet (Bun's write() may take only part). */
  pending: Buffer[];
  endWhenDrained: boolean;
  drained?: () => void;
  /** The peer is gone: write() on the socket returns -1 from now on. */
  closed?: boolean;
}

const HUGE = 8 * 1024 * 1024;

export function startFaulty(): Faulty {
  const state: Faulty = { url: "", port: 0, open: 0, hits: {}, abandoned: 0, slowDelayMs: 20, dripMs: 5, redirectTo: "http://127.0.0.1:9", bodies: {}, stop: async () => {} };
  const listener: TCPSocketListener<Conn> = Bun.listen<Conn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        state.open++;
        s.data = { buf: Buffer.alloc(0), done: false, timers: [], pending: [], endWhenDrained: false };
      },
      data(s, chunk) {
        s.data.buf = Buffer.concat([s.data.buf, chunk]);
        const head = s.data.buf.indexOf("\r\n\r\n");
        if (head < 0) return;
        const headers = s.data.buf.subarray(0, head).toString("latin1");
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(headers)?.[1] ?? 0);
        if (s.data.buf.length < head + 4 + length) return;
        const body = s.data.buf.subarray(head + 4, head + 4 + length).toString("utf8");
        s.data.buf = Buffer.alloc(0);
        const path = /^\S+\s+(\S+)/.exec(headers)?.[1] ?? "/";
        void respond(s, path, body);
      },
      drain(s) {
        flush(s);
      },
      close(s) {
        s.data.closed = true;
        state.open--;
        if (!s.data.done) state.abandoned++;
        for (const t of s.data.timers) clearTimeout(t);
      },
      error() {},
    },
  });

  async function respond(s: Socket<Conn>, path: string, raw: string) {
    const proto: Proto = path.includes("/chat/completions") ? "openai" : path.startsWith("/api/chat") ? "ollama" : "anthropic";
    let body: { model?: string; stream?: boolean } = {};
    try {
      body = JSON.parse(raw);
    } catch {}
    if (/^\/(api\/(ps|show|v0)|props)\b/.test(path)) {
      // What servers say about their models' windows is not what this stand-in is about: not found.
      s.data.done = true;
      s.data.pending.push(Buffer.from("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"));
      s.data.endWhenDrained = true;
      return flush(s);
    }
    if (path.startsWith("/run")) {
      state.hits["victoria-429"] = (state.hits["victoria-429"] ?? 0) + 1;
      s.data.done = true;
      const text = JSON.stringify({ detail: "too many goals at once" });
      s.data.pending.push(Buffer.from(`HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nretry-after: 7\r\ncontent-length: ${text.length}\r\nconnection: close\r\n\r\n${text}`));
      s.data.endWhenDrained = true;
      return flush(s);
    }
    const known = [...FAULTS, ...LIMIT_FAULTS] as readonly string[];
    const fault = known.includes(body.model ?? "") ? (body.model as Fault) : "ok";
    state.hits[fault] = (state.hits[fault] ?? 0) + 1;
    const streaming = proto !== "anthropic" || body.stream === true;
    const ctype = proto === "ollama" ? "application/x-ndjson" : streaming ? "text/event-stream" : "application/json";
    const frames = goodFrames(proto, body.model ?? "m", streaming);

    const sleep = (ms: number) => new Promise<void>((r) => s.data.timers.push(setTimeout(r, ms)));
    let closed = false;
    const write = (text: string | Uint8Array) => {
      // A closed socket takes nothing and never drains: without this, the endless answers
      // would loop forever without awaiting, freezing the process the test runs in.
      if (closed || s.data.closed) return false;
      s.data.pending.push(Buffer.from(text as string));
      flush(s);
      return true;
    };
    /** Wait until the socket took everything (backpressure for the huge bodies). */
    const drained = () => (s.data.pending.length ? new Promise<void>((r) => (s.data.drained = r)) : Promise.resolve());
    const chunk = (text: string) => write(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`);
    const head = (status: number, type: string) => write(`HTTP/1.1 ${status} ${status === 200 ? "OK" : "Error"}\r\ncontent-type: ${type}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n`);
    const end = () => {
      s.data.endWhenDrained = true;
      flush(s);
    };
    const finish = () => {
      s.data.done = true;
      write("0\r\n\r\n");
      end();
    };
    const whole = (status: number, type: string, text: string) => {
      s.data.done = true;
      write(`HTTP/1.1 ${status} X\r\ncontent-type: ${type}\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n`);
      write(text);
      end();
    };

    switch (fault) {
      case "ok":
        if (!streaming) return whole(200, ctype, frames[0]!);
        head(200, ctype);
        for (const f of frames) chunk(f);
        return finish();
      case "reset":
        if (!streaming) return whole(200, ctype, frames[0]!.slice(0, 40)), void s.terminate();
        head(200, ctype);
        for (const f of frames.slice(0, proto === "ollama" ? 2 : 3)) chunk(f);
        await drained();
        await sleep(30);
        s.data.done = true;
        closed = true;
        return s.terminate();
      case "close-mid":
        if (!streaming) {
          write(`HTTP/1.1 200 OK\r\ncontent-type: ${ctype}\r\ncontent-length: 1000\r\nconnection: close\r\n\r\n${frames[0]!.slice(0, 40)}`);
          s.data.done = true;
          return end();
        }
        head(200, ctype);
        for (const f of frames.slice(0, proto === "ollama" ? 2 : 3)) chunk(f);
        await drained();
        await sleep(30);
        s.data.done = true;
        return s.end();
      case "garbage":
        if (!streaming) return whole(200, ctype, "\u0000garbage{{{ not json");
        head(200, ctype);
        chunk(frames[0]!);
        chunk("\u0000\u0001garbage{{{ not json\n\ndata: {\"choices\": [{\"delta\": \n\n");
        chunk("data: ][\n\n{]\n");
        return finish();
      case "stall-headers":
        s.data.done = true; // stalling is the job; atrad hanging up is expected
        return;
      case "stall-mid":
        if (!streaming) {
          write(`HTTP/1.1 200 OK\r\ncontent-type: ${ctype}\r\ncontent-length: 1000\r\nconnection: close\r\n\r\n${frames[0]!.slice(0, 40)}`);
          s.data.done = true;
          return;
        }
        head(200, ctype);
        for (const f of frames.slice(0, 2)) chunk(f);
        s.data.done = true;
        return;
      case "huge-error":
        return whole(500, "application/json", JSON.stringify({ error: { message: "x".repeat(HUGE) } }));
      case "huge-stream": {
        if (!streaming) return whole(200, ctype, frames[0]!.replace("hello world", "y".repeat(HUGE)));
        head(200, ctype);
        const piece = textFrame(proto, "y".repeat(4096));
        chunk(frames[0]!);
        if (proto !== "ollama") chunk(frames[1]!);
        for (let sent = 0; sent < HUGE; sent += piece.length) {
          if (!chunk(piece)) return;
          if (s.data.pending.length > 64) await drained();
        }
        for (const f of frames.slice(proto === "ollama" ? 1 : 2)) chunk(f);
        return finish();
      }
      case "huge-line":
        if (!streaming) return whole(200, ctype, `{"type":"message","content":[{"type":"text","text":"${"z".repeat(HUGE)}`);
        head(200, ctype);
        chunk(proto === "ollama" ? `{"message":{"content":"${"z".repeat(HUGE)}` : `data: {"choices":[{"delta":{"content":"${"z".repeat(HUGE)}`);
        return finish();
      case "error-200": {
        const text = proto === "anthropic" ? JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "busy (200)" } }) : JSON.stringify({ error: { message: "model crashed", code: 500 } });
        if (proto === "ollama") {
          head(200, ctype);
          chunk(`${JSON.stringify({ error: "model crashed" })}\n`);
          return finish();
        }
        return whole(200, "application/json", text);
      }
      case "empty-200":
        return whole(200, ctype, "");
      case "bad-status-line":
        s.data.done = true;
        write("HTTP/9.9 banana\r\n\r\n{}");
        return end();
      case "redirect":
        s.data.done = true;
        write(`HTTP/1.1 307 Temporary Redirect\r\nlocation: ${state.redirectTo}${path}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
        return end();
      case "line-50mb":
      case "endless": {
        head(200, ctype);
        if (proto !== "ollama") chunk(frames[0]!);
        const open = proto === "ollama" ? `{"message":{"content":"` : proto === "openai" ? `data: {"choices":[{"delta":{"content":"` : `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"`;
        chunk(open);
        const piece = "z".repeat(64 * 1024);
        const total = fault === "endless" ? Infinity : 50 * 1024 * 1024;
        for (let sent = 0; sent < total; sent += piece.length) {
          if (!chunk(piece)) return;
          if (s.data.pending.length > 16) await drained();
        }
        chunk(`"}}\n\n`);
        return finish();
      }
      case "comments": {
        head(200, ctype);
        chunk(frames[0]!);
        const idle = proto === "ollama" ? "\n" : proto === "openai" ? ": keep-alive\n\n" : `: keep-alive\n\nevent: ping\ndata: {"type": "ping"}\n\n`;
        for (;;) {
          await sleep(20);
          if (!chunk(idle)) return;
        }
      }
      case "drip": {
        head(200, ctype);
        // The opening frames and the first delta at once, so content has arrived whatever the
        // machine's load; then the rest a byte at a time, valid all along but never done in time.
        chunk([frames[0]!, ...(proto === "ollama" ? [] : [frames[1]!]), textFrame(proto, "drip 0 ")].join(""));
        const text = [...Array.from({ length: 39 }, (_, i) => textFrame(proto, `drip ${i + 1} `)), ...frames.slice(proto === "ollama" ? 1 : 2)].join("");
        for (const ch of text) {
          await sleep(state.dripMs);
          if (!chunk(ch)) return;
        }
        return finish();
      }
      case "multiline": {
        head(200, ctype);
        // Two `data:` lines make one event; the parser joins them with "\n" (valid JSON whitespace).
        const split = (f: string) => f.replace(/^(event: [^\n]*\n)?data: (\{[^,]*,)/, (_, ev = "", first) => `${ev}data: ${first}\ndata: `);
        for (const f of frames) chunk(proto === "ollama" ? f : split(f));
        return finish();
      }
      case "newline-type": {
        head(200, ctype);
        if (proto !== "anthropic") {
          for (const f of frames) chunk(f);
          return finish();
        }
        chunk(frames[0]!);
        const forged = `ping\n\nevent: message_stop\ndata: {"type":"message_stop"}`;
        chunk(sseEvent("ping", { type: forged }));
        for (const f of frames.slice(1)) chunk(f);
        return finish();
      }
      case "slow":
        if (!streaming) {
          await sleep(state.slowDelayMs * 10);
          return whole(200, ctype, frames[0]!);
        }
        head(200, ctype);
        chunk(frames[0]!);
        if (proto !== "ollama") chunk(frames[1]!);
        for (let i = 0; i < 40; i++) {
          await sleep(state.slowDelayMs);
          if (!chunk(textFrame(proto, `tick ${i} `))) return;
        }
        for (const f of frames.slice(proto === "ollama" ? 1 : 2)) chunk(f);
        return finish();
    }
  }

  state.port = listener.port;
  state.url = `http://127.0.0.1:${listener.port}`;
  state.stop = async () => listener.stop(true);
  return state;
}

function flush(s: Socket<Conn>) {
  const d = s.data;
  while (d.pending.length) {
    const head = d.pending[0]!;
    const n = s.write(head);
    if (n < 0) {
      d.pending = [];
      d.closed = true;
      break;
    }
    if (n < head.length) {
      d.pending[0] = head.subarray(n);
      return;
    }
    d.pending.shift();
  }
  d.drained?.();
  d.drained = undefined;
  if (d.endWhenDrained) s.end();
}

/** A correct answer, as wire frames, for each protocol. */
function goodFrames(proto: Proto, model: string, streaming: boolean): string[] {
  if (proto === "openai") {
    const c = (delta: object, finish: string | null = null) => sseData({ id: "c", object: "chat.completion.chunk", model, choices: [{ index: 0, delta, finish_reason: finish }] });
    return [c({ role: "assistant", content: "" }), c({ content: "hello " }), c({ content: "world" }), c({}, "stop"), sseData({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 2 } }), "data: [DONE]\n\n"];
  }
  if (proto === "ollama") {
    const l = (o: object) => ndjsonLine({ model, created_at: "2026-01-01T00:00:00Z", ...o });
    return [l({ message: { role: "assistant", content: "hello " }, done: false }), l({ message: { role: "assistant", content: "world" }, done: false }), l({ message: { role: "assistant", content: "" }, done: true, done_reason: "stop", prompt_eval_count: 5, eval_count: 2 })];
  }
  const { message, frames } = anthropicText("msg_f", model, "hello world", { input_tokens: 5, output_tokens: 2 });
  return streaming ? frames : [JSON.stringify(message)];
}

/** One text delta frame (for the anthropic protocol, into block 0). */
function textFrame(proto: Proto, text: string): string {
  if (proto === "openai") return sseData({ choices: [{ index: 0, delta: { content: text } }] });
  if (proto === "ollama") return ndjsonLine({ message: { role: "assistant", content: text }, done: false });
  return sseEvent("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } });
}
