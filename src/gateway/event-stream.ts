/**
 * The one SSE writer: batches of Anthropic events → `text/event-stream` bytes, one write per
 * batch (each batch is what one upstream read completed), with a `ping` after every `pingMs`
 * of silence (Ollama sends none during model load and prefill, and idle connections get
 * closed). The response body is a ReadableStream for whoever reads a Response; the gateway's
 * server instead asks `directWriter` for the writer behind it and drives it straight into the
 * socket, with no stream, reader or encoder in between. Cancelling (client gone) calls `onCancel`.
 */
import { shuttingDown } from "../anthropic/errors.ts";
import { encodeEvent, formatEvent } from "../anthropic/sse.ts";
import type { StreamEvent } from "../anthropic/types.ts";

export interface EventStreamOptions {
  pingMs: number;
  /** Send a ping at once: the response is committed while the upstream is still silent. */
  initialPing?: boolean;
  onCancel?: () => void;
  /** Called once with every event as it is written (for logs/metrics; must not throw). */
  onEvent?: (event: StreamEvent) => void;
  onClose?: (clientAborted: boolean) => void;
  /** When it fires (daemon shutting down), the stream ends at once with an `error` event. */
  stop?: AbortSignal;
}

/** Where a writer puts its bytes. */
export interface EventSink {
  /** False when the client's buffer is full: the writer waits for `drained()`. */
  write(text: string): boolean;
  drained(): Promise<void>;
  /** The last bytes (possibly none), then the end of the response. */
  end(text?: string): void;
  /** The stream failed past the guard (should not happen): cut the response. */
  fail(err: unknown): void;
}

type Batches = AsyncIterator<StreamEvent[], void, undefined>;

const PING = formatEvent({ type: "ping" });
const PING_BYTES = encodeEvent({ type: "ping" });
const SHUTTING_DOWN = formatEvent(shuttingDown().toEvent());
const encoder = new TextEncoder();

const terminal = (e: StreamEvent | undefined) => e?.type === "message_stop" || e?.type === "error";

/** One response's writer: it runs once, into one sink. */
export class EventWriter {
  private sink?: EventSink;
  private closed = false;
  private lastWrite = Date.now();
  private readonly onStop = () => this.stopped();

  /** `head`: the first batch, already asked for (the lifecycle awaited it before committing). */
  constructor(
    private readonly batches: Batches,
    private head: Promise<IteratorResult<StreamEvent[], void>> | undefined,
    private readonly opts: EventStreamOptions,
  ) {}

  /** Write every batch into `sink` until the stream ends, the client leaves or the daemon stops. */
  async run(sink: EventSink): Promise<void> {
    this.begin(sink);
    try {
      while (!this.closed) {
        const next = this.head ?? this.batches.next();
        this.head = undefined;
        const r = await next;
        if (this.closed) return;
        if (r.done) {
          this.finish(false);
          sink.end();
          return;
        }
        const batch = r.value;
        const text = this.format(batch);
        this.lastWrite = Date.now();
        if (terminal(batch[batch.length - 1])) {
          // The guard relays nothing after a terminal event: end with it, in one write.
          this.finish(false);
          sink.end(text);
          void this.batches.return?.(undefined)?.catch(() => {});
          return;
        }
        if (!sink.write(text)) await sink.drained();
      }
    } catch (err) {
      // The lifecycle's guard turns failures into `error` events; this is the last line of defence.
      if (this.closed) return;
      this.finish(false);
      sink.fail(err);
    }
  }

  /** The client is gone: stop the upstream, settle the exchange. */
  cancel(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.finish(true);
    this.opts.onCancel?.();
    return Promise.resolve(this.batches.return?.(undefined)).then(
      () => {},
      () => {},
    );
  }

  private begin(sink: EventSink) {
    this.sink = sink;
    const { stop, pingMs } = this.opts;
    if (stop?.aborted) queueMicrotask(this.onStop);
    else stop?.addEventListener("abort", this.onStop, { once: true });
    if (this.opts.initialPing) sink.write(PING);
    pings.add(this, Math.max(50, Math.floor(pingMs / 4)));
  }

  /** The shared ticker's call: a ping when nothing was written for `pingMs`. */
  tick(now: number) {
    if (this.closed || now - this.lastWrite < this.opts.pingMs) return;
    this.lastWrite = now;
    try {
      this.sink?.write(PING);
    } catch {}
  }

  private format(batch: StreamEvent[]): string {
    const onEvent = this.opts.onEvent;
    let text = "";
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i]!;
      onEvent?.(e);
      text += formatEvent(e);
    }
    return text;
  }

  private stopped() {
    if (this.closed) return;
    this.finish(false);
    try {
      this.sink?.end(SHUTTING_DOWN);
    } catch {}
    this.opts.onCancel?.();
    void this.batches.return?.(undefined)?.catch(() => {});
  }

  private finish(aborted: boolean) {
    if (this.closed) return;
    this.closed = true;
    pings.delete(this);
    // The shutdown signal lives as long as the daemon: a listener left on it would keep this
    // whole stream (writer, iterator, upstream response) alive forever — a leak per request.
    this.opts.stop?.removeEventListener("abort", this.onStop);
    this.opts.onClose?.(aborted);
  }
}

/**
 * One timer for every open stream's pings, not one per stream: creating and clearing an
 * interval per response showed in the relay's per-request cost. It ticks at the shortest
 * period any open stream asked for, and stops when no stream is open.
 */
class PingTicker {
  private readonly open = new Set<EventWriter>();
  private timer?: ReturnType<typeof setInterval>;
  private period = Infinity;

  add(w: EventWriter, period: number) {
    this.open.add(w);
    if (this.timer && period >= this.period) return;
    clearInterval(this.timer);
    this.period = period;
    this.timer = setInterval(() => {
      const now = Date.now();
      for (const o of this.open) o.tick(now);
    }, period);
  }

  delete(w: EventWriter) {
    if (!this.open.delete(w) || this.open.size) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.period = Infinity;
  }
}

const pings = new PingTicker();

const writers = new WeakMap<ReadableStream<Uint8Array>, EventWriter>();

/** The writer behind a body made by createEventStream, for a server that writes to its socket itself. */
export function directWriter(body: ReadableStream<Uint8Array> | null): EventWriter | undefined {
  return body ? writers.get(body) : undefined;
}

/**
 * The response body. Read as a stream, each pull runs the writer until it has written (one
 * batch, a ping, the end); a server holding the body can take `directWriter(body)` instead,
 * and then the stream is never read.
 */
export function createEventStream(batches: Batches, head: Promise<IteratorResult<StreamEvent[], void>> | undefined, opts: EventStreamOptions): ReadableStream<Uint8Array> {
  const writer = new EventWriter(batches, head, opts);
  // With highWaterMark 0 a pull means the reader wants bytes: it settles on the next write,
  // and the writer (told its write was not taken) goes on once the next pull comes.
  let pulled: (() => void) | undefined;
  let drained: (() => void) | undefined;
  let running = false;
  const settle = () => {
    const [p, d] = [pulled, drained];
    pulled = drained = undefined;
    p?.();
    d?.();
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const wanted = new Promise<void>((resolve) => (pulled = resolve));
        if (running) {
          const d = drained;
          drained = undefined;
          d?.();
          return wanted;
        }
        running = true;
        void writer.run({
          write(text) {
            controller.enqueue(text === PING ? PING_BYTES : encoder.encode(text));
            const p = pulled;
            pulled = undefined;
            p?.();
            return false;
          },
          drained: () => new Promise<void>((resolve) => (drained = resolve)),
          end(text) {
            try {
              if (text) controller.enqueue(encoder.encode(text));
              controller.close();
            } catch {}
            settle();
          },
          fail(err) {
            try {
              controller.error(err);
            } catch {}
            settle();
          },
        });
        return wanted;
      },
      async cancel() {
        const done = writer.cancel();
        settle();
        await done;
      },
    },
    { highWaterMark: 0 },
  );
  writers.set(stream, writer);
  return stream;
}
