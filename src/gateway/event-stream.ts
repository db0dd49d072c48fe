/**
 * The one SSE writer: Anthropic events → `text/event-stream` bytes, with a `ping` after every
 * `pingMs` of silence (Ollama sends none during model load and prefill, DESIGN §4.8, and
 * idle connections get closed). Cancelling the response (client gone) calls `onCancel`.
 */
import { encodeEvent } from "../anthropic/sse.ts";
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

const SHUTTING_DOWN = encodeEvent({ type: "error", error: { type: "overloaded_error", message: "atrad is shutting down; retry the request" } });

export function createEventStream(events: AsyncIterable<StreamEvent>, opts: EventStreamOptions): ReadableStream<Uint8Array> {
  const it = events[Symbol.asyncIterator]();
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
    async pull(controller) {
      try {
        const r = await it.next();
        if (closed) return;
        if (r.done) {
          finish(false);
          controller.close();
          return;
        }
        opts.onEvent?.(r.value);
        lastWrite = Date.now();
        controller.enqueue(encodeEvent(r.value));
      } catch (err) {
        // guardStream turns failures into `error` events; this is the last line of defence.
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
