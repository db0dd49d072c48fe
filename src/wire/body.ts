/**
 * The upstream's body as chunks, with the deadlines that silence alone cannot catch: no
 * content for `idleMs` (an upstream that sends SSE comments or pings forever keeps a socket
 * busy but makes no progress), and a total deadline for the whole response (a valid stream
 * drip-fed at a byte a second). Which chunks are "content" is the framer's call: it reports
 * progress with `progress()`. Read failures leave as the one error type, in plain words and
 * naming the target, so the gateway can answer 502 / 504 or an `error` event.
 */
import { AtradError } from "../anthropic/errors.ts";
import { plainCause } from "./cause.ts";
import { brokenUpstream, frameTooLarge, MAX_FRAME_BYTES, type FrameLimits } from "./limits.ts";

export interface BodyOptions {
  /** `provider/model`, named in every failure. */
  target: string;
  /** End the response when no content arrived for this long while waiting on the upstream. */
  idleMs?: number;
  /** End the response when it has taken this long in all. */
  totalMs?: number;
  /** The config key a user raises to wait longer (named in the timeout messages). */
  idleKey?: string;
  totalKey?: string;
}

const secs = (ms: number) => `${Math.round(ms / 100) / 10}s`;

export class UpstreamBody {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private waiting = false;
  private expired: AtradError | undefined;
  private idle: ReturnType<typeof setTimeout> | undefined;
  private total: ReturnType<typeof setTimeout> | undefined;

  constructor(body: ReadableStream<Uint8Array>, private readonly opts: BodyOptions) {
    this.reader = body.getReader();
    const { idleMs, totalMs } = opts;
    // One timer each, refreshed rather than re-created: progress is reported per frame.
    // The idle timer only counts while atrad waits on the upstream: a client that reads
    // slowly is not the upstream's lack of progress.
    if (idleMs && idleMs > 0) {
      this.idle = setTimeout(() => {
        if (!this.waiting) return void this.idle?.refresh();
        this.expire(new AtradError("timeout_error", `${opts.target} sent no content for ${secs(idleMs)}${opts.idleKey ? ` (${opts.idleKey})` : ""}; the response was ended`));
      }, idleMs);
    }
    if (totalMs && totalMs > 0) {
      this.total = setTimeout(() => {
        this.expire(new AtradError("timeout_error", `${opts.target} did not finish its response within ${secs(totalMs)}${opts.totalKey ? ` (${opts.totalKey})` : ""}; the response was ended`));
      }, totalMs);
    }
  }

  /** The framer saw a content frame (not a comment, not a ping). */
  progress(): void {
    this.idle?.refresh();
  }

  async *chunks(): AsyncGenerator<Uint8Array> {
    let done = false;
    try {
      for (;;) {
        this.waiting = true;
        let r: { done: true; value?: undefined } | { done: false; value: Uint8Array };
        try {
          r = await this.reader.read();
        } catch (err) {
          done = true;
          throw this.expired ?? this.failure(err);
        } finally {
          this.waiting = false;
        }
        if (this.expired) {
          done = true;
          throw this.expired;
        }
        if (r.done) {
          done = true;
          return;
        }
        yield r.value;
      }
    } finally {
      this.stopTimers();
      // Left early (the consumer stopped, a frame was too large): hang up on the upstream.
      if (!done) await this.reader.cancel(new DOMException("stopped reading", "AbortError")).catch(() => {});
    }
  }

  private expire(err: AtradError) {
    if (this.expired) return;
    this.expired = err;
    this.stopTimers();
    // A pending read resolves as done; cancelling aborts the upstream request.
    void this.reader.cancel(err).catch(() => {});
  }

  private stopTimers() {
    clearTimeout(this.idle);
    clearTimeout(this.total);
  }

  private failure(err: unknown): unknown {
    const e = err as { name?: string; message?: string };
    // The client left: not the upstream's failure, and nobody is listening.
    if (e?.name === "AbortError") return err;
    // fetchUpstream's silence timer words its reason to follow the target's name; any other
    // timeout (the runtime's own) gets ours.
    if (e?.name === "TimeoutError") return new AtradError("timeout_error", `${this.opts.target} ${e.message?.startsWith("sent nothing") ? e.message : "timed out mid-response"}`);
    if (err instanceof AtradError) return err;
    return brokenUpstream(this.opts.target, `broke off its response: ${plainCause(err)}`);
  }
}

/**
 * A whole (non-streaming) body as text, bounded like one frame: a JSON answer is parsed
 * whole, so an upstream cannot make atrad buffer more than the cap.
 */
export async function readText(body: ReadableStream<Uint8Array>, opts: BodyOptions & FrameLimits): Promise<string> {
  const max = opts.maxFrameBytes ?? MAX_FRAME_BYTES;
  const parts: Uint8Array[] = [];
  let size = 0;
  const upstream = new UpstreamBody(body, opts);
  for await (const bytes of upstream.chunks()) {
    // Every byte of a whole body is content: only the total deadline can end a slow one.
    upstream.progress();
    size += bytes.length;
    if (size > max) throw frameTooLarge(opts.target, "body", max);
    parts.push(bytes);
  }
  return new TextDecoder().decode(Buffer.concat(parts));
}

/**
 * At most `maxBytes` of a body as text, the rest left unread (the connection is closed); a
 * failure mid-way keeps what arrived. For error bodies: their first part says what went wrong.
 */
export async function readPrefix(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<string> {
  if (!body) return "";
  const parts: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  try {
    while (size < maxBytes) {
      const r = await reader.read();
      if (r.done) break;
      parts.push(r.value);
      size += r.value.length;
    }
  } catch {}
  void reader.cancel().catch(() => {});
  const all = Buffer.concat(parts);
  return new TextDecoder().decode(all.length > maxBytes ? all.subarray(0, maxBytes) : all);
}

/** JSON.parse that answers undefined for text that is not JSON. */
export function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
