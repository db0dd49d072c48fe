/**
 * The one SSE writer: Anthropic events → `text/event-stream` bytes, with a `ping` after every
 * `pingMs` of silence (Ollama sends none during model load and prefill, and
 * idle connections get closed). Cancelling the response (client gone) calls `onCancel`.
 */
import { shuttingDown } from "../anthropic/errors.ts";
import { encodeEvent, formatEvent } from "../anthropic/sse.ts";
import type { StreamEvent } from "../anthropic/types.ts";

const PING = encodeEvent({ type: "ping" });

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

/** At most this many events go out in one write. */
const MAX_BATCH = 128;
const NOT_READY = Symbol("not ready");
const encoder = new TextEncoder();
/** Resolves after the microtasks queued now have run: events already in hand beat it. */
const afterMicrotasks = () => new Promise<typeof NOT_READY>((resolve) => setImmediate(() => resolve(NOT_READY)));

const SHUTTING_DOWN = encodeEvent(shuttingDown().toEvent());

export function createEventStream(events: AsyncIterable<StreamEvent>, opts: EventStreamOptions): ReadableStream<Uint8Array> {
  const it = events[Symbol.asyncIterator]();
  // A next() still pending when a write went out: the following pull awaits it first.
  let pending: Promise<IteratorResult<StreamEvent>> | undefined;
  let lastWrite = Date.now();
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  let stop: (() => void) | undefined;
  const finish = (aborted: boolean) => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    // The shutdown signal lives as long as the daemon: a listener left on it would keep this
    // whole stream (controller, iterator, upstream response) alive forever — a leak per request.
    if (stop) opts.stop?.removeEventListener("abort", stop);
    opts.onClose?.(aborted);
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      stop = () => {
        if (closed) return;
        finish(false);
        try {
          controller.enqueue(SHUTTING_DOWN);
          controller.close();
        } catch {}
        opts.onCancel?.();
        void it.return?.()?.catch(() => {});
      };
      if (opts.stop?.aborted) queueMicrotask(stop);
      else opts.stop?.addEventListener("abort", stop, { once: true });
      if (opts.initialPing) controller.enqueue(PING);
      timer = setInterval(() => {
        if (closed || Date.now() - lastWrite < opts.pingMs) return;
        lastWrite = Date.now();
        try {
          controller.enqueue(PING);
        } catch {}
      }, Math.max(50, Math.floor(opts.pingMs / 4)));
    },
    /**
     * Each pull writes every event that is already available, not one: an upstream network
     * chunk usually carries many events, and one socket write per event was the relay's main
     * cost under load. Waiting ends as soon as the next event is not ready, so nothing is held.
     */
    async pull(controller) {
      let text = "";
      let count = 0;
      // One turn of the event loop per write, armed once: a timer per event cost more than
      // the events it batched (a setImmediate and a race for each of them).
      let turn: Promise<typeof NOT_READY> | undefined;
      try {
        for (;;) {
          const next = pending ?? it.next();
          pending = undefined;
          const r = count === 0 ? await next : await Promise.race([next, (turn ??= afterMicrotasks())]);
          if (closed) return;
          if (r === NOT_READY) {
            pending = next;
            break;
          }
          if (r.done) {
            finish(false);
            if (text) controller.enqueue(encoder.encode(text));
            controller.close();
            return;
          }
          opts.onEvent?.(r.value);
          text += formatEvent(r.value);
          if (++count >= MAX_BATCH) break;
        }
        lastWrite = Date.now();
        controller.enqueue(encoder.encode(text));
      } catch (err) {
        // The lifecycle's guard turns failures into `error` events; this is the last line of defence.
        if (text) controller.enqueue(encoder.encode(text));
        finish(false);
        controller.error(err);
      }
    },
    async cancel() {
      finish(true);
      opts.onCancel?.();
      await it.return?.().catch(() => {});
    },
  }, { highWaterMark: 0 });
}
