/**
 * SSE framing for every upstream that streams `text/event-stream` (OpenAI chat completions,
 * Anthropic messages): bytes in, parsed events out. Parsing is eventsource-parser's — spec
 * line endings, multi-line `data:` joined with "\n", comments skipped — given a buffer cap so
 * one event cannot grow without bound. A run of bytes with no line ending at all (which the
 * parser may discard unbuffered, forever) is capped here too. Comments and `ping` events are
 * not progress: an upstream sending only those is ended by the idle deadline.
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { UpstreamBody, type BodyOptions } from "./body.ts";
import { frameTooLarge, MAX_FRAME_BYTES, type FrameLimits } from "./limits.ts";

export type SseMessage = EventSourceMessage;

export class SseSplitter {
  private readonly queue: SseMessage[] = [];
  private readonly parser;
  private readonly decoder = new TextDecoder();
  private readonly max: number;
  private overflow = false;
  /** Characters since the last line ending. */
  private run = 0;

  constructor(
    private readonly target: string,
    limits: FrameLimits = {},
  ) {
    this.max = limits.maxFrameBytes ?? MAX_FRAME_BYTES;
    this.parser = createParser({
      // The parser's own cap covers what it buffers across feeds; an event that arrived whole
      // in one chunk never was buffered, so its size is checked here.
      onEvent: (m) => {
        if (this.overflow || m.data.length > this.max) this.overflow = true;
        else this.queue.push(m);
      },
      // Counted in characters, a bound within a factor of the bytes it names.
      maxBufferSize: this.max,
      onError: (e) => {
        if ((e as { type?: string }).type === "max-buffer-size-exceeded") this.overflow = true;
      },
    });
  }

  /**
   * Bytes in (split anywhere); every event completed by them out. A frame over the cap fails
   * the next call, so the events before it in the same bytes still go out.
   */
  push(bytes: Uint8Array): SseMessage[] {
    if (this.failed) throw this.failed;
    const text = this.decoder.decode(bytes, { stream: true });
    // The parser holds at most the cap whatever it is fed, so feeding first loses no event.
    try {
      this.parser.feed(text);
    } catch {
      this.overflow = true;
    }
    if (this.overflow) this.failed = frameTooLarge(this.target, "event", this.max);
    else if (this.tooLong(text)) this.failed = frameTooLarge(this.target, "line", this.max);
    const events = this.queue.splice(0);
    if (this.failed && !events.length) throw this.failed;
    return events;
  }

  /** The body ended: an event cut off before its blank line is still dispatched. */
  end(): SseMessage[] {
    if (this.failed) throw this.failed;
    this.parser.feed(this.decoder.decode());
    this.parser.reset({ consume: true });
    return this.queue.splice(0);
  }

  private failed: Error | undefined;

  /** Whether the run of characters since the last line ending passed the cap. */
  private tooLong(text: string): boolean {
    const end = Math.max(text.lastIndexOf("\n"), text.lastIndexOf("\r"));
    this.run = end < 0 ? this.run + text.length : text.length - end - 1;
    return this.run > this.max;
  }
}

/** A `ping`, by event name or by its data's `type` (Anthropic sends both). */
export function isPing(m: SseMessage): boolean {
  return m.event === "ping" || /^\s*\{\s*"type"\s*:\s*"ping"\s*[,}]/.test(m.data);
}

/**
 * An SSE body from an upstream, one batch per network chunk: the events that chunk completed
 * (none: nothing is yielded). Every event but a ping counts as progress.
 */
export async function* sseBatches(body: ReadableStream<Uint8Array>, opts: BodyOptions & FrameLimits): AsyncGenerator<SseMessage[]> {
  const upstream = new UpstreamBody(body, opts);
  const splitter = new SseSplitter(opts.target, opts);
  for await (const bytes of upstream.chunks()) {
    const events = splitter.push(bytes);
    if (!events.length) continue;
    for (const m of events) {
      if (!isPing(m)) {
        upstream.progress();
        break;
      }
    }
    yield events;
  }
  const last = splitter.end();
  if (last.length) yield last;
}

/** An SSE body from an upstream as events, one by one. */
export async function* sseEvents(body: ReadableStream<Uint8Array>, opts: BodyOptions & FrameLimits): AsyncGenerator<SseMessage> {
  for await (const events of sseBatches(body, opts)) yield* events;
}

/** Read any SSE body with the default caps and no deadlines (clients, tests, scripts). */
export function parseSse(body: ReadableStream<Uint8Array>, target = "the server"): AsyncGenerator<SseMessage> {
  return sseEvents(body, { target });
}
