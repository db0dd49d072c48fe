/**
 * What every HTTP stand-in shares, so each stand-in file holds only its server's quirks:
 * the loopback listener and its url/port/stop, the record of what arrived, a scripted reply
 * streamed the way local model servers stream (SSE or NDJSON, paced, cut short on cue), and
 * the helpers the scripts use.
 */
import type { Server } from "bun";

/** A running stand-in: where it listens, and how to stop it. */
export interface Served {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Serve `handle` on 127.0.0.1 (an ephemeral port unless `port` is given) and give `state` its
 * url, port and stop. No idle timeout: stand-ins model slow servers, and the test (or atrad's
 * own timeouts) decides when to give up, not Bun's 10 s default.
 */
export function serve<S extends Served>(state: Omit<S, keyof Served>, handle: (req: Request, url: URL) => Response | Promise<Response>, port = 0): S {
  const server: Server<unknown> = Bun.serve({ hostname: "127.0.0.1", port, idleTimeout: 0, fetch: (req) => handle(req, new URL(req.url)) });
  return Object.assign(state, { port: server.port!, url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) }) as S;
}

/** One request as a stand-in received it; `body` is filled once parsed. */
export interface Received {
  path: string;
  headers: Record<string, string>;
  body: any;
  /** The client went away before the answer was complete. */
  aborted: boolean;
}

/** Record `req` in `into` (before its body is read, so a request whose body never parses is still seen) and follow its abort. */
export function receive(req: Request, url: URL, into: Received[]): Received {
  const rec: Received = { path: url.pathname + url.search, headers: Object.fromEntries(req.headers), body: undefined, aborted: false };
  into.push(rec);
  req.signal.addEventListener("abort", () => (rec.aborted = true));
  return rec;
}

/** How a scripted streamed reply is paced and where it fails. */
export interface Pacing {
  /** Silence before the first frame (model load + prefill). */
  firstTokenDelayMs?: number;
  /** Delay after each frame. */
  pieceDelayMs?: number;
  /** Fail (end the stream as the server would) once this many content frames are out. */
  failAfter?: number;
  /** Send nothing until this settles: a prefill that lasts until the test has seen what it waits for. */
  silentUntil?: Promise<unknown>;
  /** Hold the stream open after its first frame until this settles: a stream a test ends when it has looked. */
  hold?: Promise<unknown>;
}

/** Send one frame; `content: false` for frames that do not count toward `failAfter` (framing, keepalives). */
export type Send = (frame: string, content?: boolean) => Promise<void>;

/**
 * A streamed response whose body `script` writes frame by frame, paced as `pacing` says. When
 * the client goes away or `failAfter` is reached, the stream just ends — what a local server
 * does when generation dies — unless `onFail` writes a last frame (a server that says so).
 */
export function streamed(headers: Record<string, string>, signal: AbortSignal, pacing: Pacing, script: (send: Send) => Promise<void>, onFail?: (send: (frame: string) => void) => void): Response {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async start(c) {
      let sent = 0;
      let frames = 0;
      const send: Send = async (frame, content = true) => {
        if (signal.aborted) throw new Error("aborted");
        if (content && pacing.failAfter !== undefined && sent >= pacing.failAfter) throw new Failed();
        if (content) sent++;
        c.enqueue(enc.encode(frame));
        if (++frames === 1 && pacing.hold) await pacing.hold;
        if (pacing.pieceDelayMs) await Bun.sleep(pacing.pieceDelayMs);
      };
      try {
        await Bun.sleep(pacing.firstTokenDelayMs ?? 0);
        await pacing.silentUntil;
        await script(send);
      } catch (err) {
        if (err instanceof Failed && onFail) onFail((frame) => c.enqueue(enc.encode(frame)));
      }
      try {
        c.close();
      } catch {}
    },
  });
  return new Response(body, { headers });
}

class Failed extends Error {}

/** An SSE event with a name (Anthropic's framing): `event:` line, one `data:` line. */
export const sseEvent = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
/** An SSE event without a name (OpenAI's framing). */
export const sseData = (data: object) => `data: ${JSON.stringify(data)}\n\n`;
/** One NDJSON line (Ollama's framing). */
export const ndjsonLine = (data: object) => `${JSON.stringify(data)}\n`;

/** Lines sent as NDJSON, `delayMs` apart, stopping when the client goes away. */
export function ndjson(lines: object[], delayMs = 0, signal: AbortSignal = new AbortController().signal): Response {
  return streamed({ "content-type": "application/x-ndjson" }, signal, { pieceDelayMs: delayMs }, async (send) => {
    for (const l of lines) await send(ndjsonLine(l));
  });
}

/** Split text into small pieces the way a tokenizer would, keeping every character. */
export function pieces(text: string): string[] {
  return text.match(/\s*\S{1,4}|\s+$/g) ?? (text ? [text] : []);
}

/** The last user turn's text, whatever shape its content has (a string, or text parts or blocks). */
export function lastUserText(body: any): string {
  const last = [...(body.messages ?? [])].reverse().find((m: any) => m.role === "user");
  if (!last) return "";
  if (typeof last.content === "string") return last.content;
  return last.content.filter((p: any) => p.type === "text").map((p: any) => p.text).join("");
}

/**
 * Where a model server stops on a `stop` string: the first text item holding one is cut before
 * it and the reply ends there; `matched` is the string (the earliest in that text). Undefined
 * when nothing matched, or the request had no stop strings.
 */
export function cutAtStop<I extends object>(items: readonly I[], stop: unknown): { items: I[]; matched: string } | undefined {
  const stops = Array.isArray(stop) ? stop.filter((x): x is string => typeof x === "string" && x !== "") : [];
  if (!stops.length) return undefined;
  const kept: I[] = [];
  for (const item of items) {
    const text = "text" in item && typeof item.text === "string" ? item.text : undefined;
    const hits = text === undefined ? [] : stops.map((s) => ({ s, at: text.indexOf(s) })).filter((h) => h.at >= 0).sort((a, b) => a.at - b.at);
    if (!hits.length) {
      kept.push(item);
      continue;
    }
    kept.push({ ...item, text: text!.slice(0, hits[0]!.at) });
    return { items: kept, matched: hits[0]!.s };
  }
  return undefined;
}

/** The Messages API's answer for one text block: as a message, and as the SSE events streaming it. */
export function anthropicText(id: string, model: string, text: string, usage: { input_tokens: number; output_tokens: number }) {
  const message = { id, type: "message", role: "assistant", model, content: [{ type: "text", text }], stop_reason: "end_turn", stop_sequence: null, usage };
  const events = [
    { type: "message_start", message: { ...message, content: [], stop_reason: null } },
    { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
    { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } },
    { type: "content_block_stop", index: 0 },
    { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: usage.output_tokens } },
    { type: "message_stop" },
  ];
  return { message, frames: events.map((e) => sseEvent(e.type, e)) };
}
