/**
 * One request's life, from dispatch to its last byte, in one place:
 * - the client leaving aborts the upstream call, wherever it is;
 * - the provider slot, the idle timeout and the request record are settled exactly once,
 *   however the exchange ends — an answer, an error, a client gone, the daemon stopping, or a
 *   throw anywhere (a `Response` refusing a header value included);
 * - a streaming 200 is committed only when the upstream has produced its first event, or after
 *   `server.stream_commit_s` of silence (then pings keep the client's connection alive); until
 *   then a failure keeps its real status and headers, so SDKs retry a 529 as they should;
 * - every failure leaves through `toWire`: an Anthropic envelope with its status, or an `error`
 *   event (guardStream) once the 200 is out.
 */
import { AtradError, shuttingDown } from "../anthropic/errors.ts";
import type { MessagesRequest } from "../anthropic/schema.ts";
import { sessionIdOf } from "../anthropic/session.ts";
import { aggregateStream, guardBatches } from "../anthropic/stream.ts";
import type { StreamEvent } from "../anthropic/types.ts";
import { errorMessageOf, UpstreamError } from "../providers/upstream.ts";
import { requestClassOf } from "../router/classify.ts";
import type { Dispatched } from "../router/router.ts";
import type { GatewayDeps } from "./deps.ts";
import { createEventStream } from "./event-stream.ts";
import { headerText } from "./headers.ts";
import { estimateRequestTokens } from "../tokens/count.ts";
import { RecordBuilder } from "./record.ts";

const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" };

export const newRequestId = () => `req_${crypto.randomUUID().replaceAll("-", "")}`;

/** Answer one checked Messages request. Never throws: a failure is an Anthropic answer. */
export async function serveMessages(request: Request, body: MessagesRequest, requestId: string, deps: GatewayDeps): Promise<Response> {
  const exchange = new Exchange(request, body, requestId, deps);
  try {
    return await exchange.run();
  } catch (err) {
    return exchange.fail(err);
  }
}

/**
 * The one mapping of anything thrown onto what the client is told (`upstream`: while relaying
 * that target's stream). Provider errors are known here; the rest is AtradError.from.
 */
export function toWire(err: unknown, upstream?: string): AtradError {
  if (!(err instanceof UpstreamError)) return AtradError.from(err, upstream);
  const headers: Record<string, string> = err.retryAfter ? { "retry-after": err.retryAfter } : {};
  if (err.body?.anthropic && isAnthropicError(err.body.text)) {
    // Claude Code reads an Anthropic upstream's own wording: its body goes out unmodified.
    return new AtradError(err.errorType, errorMessageOf(err.body.text) ?? err.message, { status: err.status, headers, relay: { text: err.body.text, contentType: err.body.contentType } });
  }
  return new AtradError(err.errorType, err.message, { status: err.status === 0 ? 529 : err.status, headers });
}

/** Answer with `err` in Anthropic's envelope (routes other than /v1/messages, guards, Elysia's errors). */
export function errorResponse(err: unknown, requestId = newRequestId()): Response {
  return toWire(err).toResponse({ "request-id": requestId });
}

function isAnthropicError(text: string): boolean {
  try {
    const j = JSON.parse(text) as { type?: string; error?: { type?: string } };
    return j.type === "error" && typeof j.error?.type === "string";
  } catch {
    return false;
  }
}

const LATE = Symbol("late");
type Late = typeof LATE;

class Exchange {
  private readonly rec: RecordBuilder;
  private readonly upstream = new AbortController();
  private release?: () => void;
  private ended = false;
  /** A committed stream not yet handed to a Response: cancelled if building the Response fails. */
  private stream?: ReadableStream<Uint8Array>;
  private readonly timers: Array<ReturnType<typeof setTimeout>> = [];
  private onShutdown?: () => void;
  private stopped?: Promise<never>;

  constructor(
    private readonly request: Request,
    private readonly body: MessagesRequest,
    private readonly requestId: string,
    private readonly deps: GatewayDeps,
  ) {
    this.rec = new RecordBuilder(requestId, sessionIdOf(request.headers, body.metadata), body.model, body.stream === true, requestClassOf(request.headers));
    request.signal.addEventListener("abort", this.clientLeft, { once: true });
    // The body is in: local models may think for minutes, so the socket's idle limit is lifted
    // until the answer is over (restoreTimeout in end()).
    deps.relaxTimeout?.(request);
  }

  private readonly clientLeft = () => this.upstream.abort(new DOMException("client disconnected", "AbortError"));

  async run(): Promise<Response> {
    const dispatching = this.deps.router.dispatch({ request: this.body, headers: this.request.headers, requestId: this.requestId, signal: this.upstream.signal });
    // The slot is the router's as soon as it answers; give it back at once if we are already done.
    dispatching.then(
      (d) => {
        this.release = d.release;
        if (this.ended) d.release();
      },
      () => {},
    );
    return this.body.stream === true ? this.streaming(dispatching) : this.whole(dispatching);
  }

  /** A non-streaming answer: the body relayed, or the events folded into one Message. */
  private async whole(dispatching: Promise<Dispatched>): Promise<Response> {
    const d = await this.orShutdown(dispatching);
    const headers = this.routed(d);
    const { outcome } = d;
    if (outcome.type === "body") {
      this.request.signal.removeEventListener("abort", this.clientLeft);
      this.rec.record.ttft_ms = Math.round(performance.now() - this.rec.started);
      this.rec.usageFromBody(outcome.body);
      const response = new Response(outcome.body, { status: outcome.status, headers: new Headers({ ...outcome.headers, ...headers }) });
      this.end(outcome.status);
      return response;
    }
    const message = await this.orShutdown(aggregateStream(this.tap(this.relay(outcome.events, d.target))));
    const response = Response.json(message, { headers: new Headers(headers) });
    this.end(200);
    return response;
  }

  /**
   * A streaming answer. Until the upstream's first event (or the commit window), nothing is
   * written, so a failure is still an HTTP status; after that it is an `error` event.
   */
  private async streaming(dispatching: Promise<Dispatched>): Promise<Response> {
    const window = this.window(this.deps.config().server.stream_commit_s * 1000);
    const d = await this.orShutdown(Promise.race([dispatching, window]));
    if (d === LATE) return this.commit(this.lateEvents(dispatching), undefined, { "request-id": this.requestId }, true);
    const headers = this.routed(d);
    if (d.outcome.type === "body") throw new AtradError("api_error", `${d.target} answered a streaming request with a plain body`, { status: 502 });
    const it = this.relay(d.outcome.events, d.target);
    const next = it.next();
    const first = await this.orShutdown(Promise.race([next, window]));
    if (first === LATE) return this.commit(it, next.then((r) => (r.done ? r : { done: false, value: this.preview(r.value) })), headers, true);
    if (first.done) throw new AtradError("api_error", `${d.target} ended the stream before message_start`, { status: 502 });
    const batch = this.preview(first.value);
    if (batch[0]!.type === "error") {
      // Nothing is committed yet: the client gets the failure as a status it can act on.
      const e = batch[0]!;
      this.rec.onEvent(e);
      void it.return?.(undefined)?.catch(() => {});
      throw AtradError.fromEvent(e.error);
    }
    return this.commit(it, Promise.resolve({ done: false, value: batch }), headers, false);
  }

  /** The events of a stream committed before the router answered: its outcome or its failure. */
  private async *lateEvents(dispatching: Promise<Dispatched>): AsyncGenerator<StreamEvent[]> {
    let d: Dispatched;
    try {
      d = await dispatching;
    } catch (err) {
      yield [toWire(err).toEvent()];
      return;
    }
    this.routed(d);
    if (d.outcome.type === "body") {
      yield [new AtradError("api_error", `${d.target} answered a streaming request with a plain body`).toEvent()];
      return;
    }
    let first = true;
    for await (const batch of this.relay(d.outcome.events, d.target)) {
      yield first ? this.preview(batch) : batch;
      first = false;
    }
  }

  /** An upstream's events as the client gets them, in batches: guarded (see guardBatches). */
  private relay(events: AsyncIterable<StreamEvent>, target: string): AsyncGenerator<StreamEvent[]> {
    return guardBatches(events, target, toWire);
  }

  /** The first batch with the best-known usage up front (see withPreview). */
  private preview(batch: StreamEvent[]): StreamEvent[] {
    return withPreview(batch, this.body);
  }

  private commit(batches: AsyncIterator<StreamEvent[], void, undefined>, head: Promise<IteratorResult<StreamEvent[], void>> | undefined, headers: Record<string, string>, initialPing: boolean): Response {
    // Headers first: if a value is refused, no stream exists yet to clean up.
    const responseHeaders = new Headers({ ...SSE_HEADERS, ...headers });
    // From here the event stream watches the shutdown; the commit window is over.
    this.stopWaiting();
    this.stream = createEventStream(batches, head, {
      pingMs: this.deps.config().server.ping_interval_s * 1000,
      initialPing,
      stop: this.deps.shutdown,
      onEvent: this.onEvent,
      onCancel: this.clientLeft,
      onClose: (aborted) => this.end(200, aborted || this.request.signal.aborted),
    });
    const response = new Response(this.stream, { status: 200, headers: responseHeaders });
    this.stream = undefined;
    return response;
  }

  private readonly onEvent = (e: StreamEvent) => this.rec.onEvent(e);

  /** Whatever went wrong, as the client's answer; the exchange is over. */
  fail(err: unknown): Response {
    if (this.request.signal.aborted) {
      this.end(499, true);
      this.cancel(err);
      return new Response(null, { status: 499 });
    }
    let response: Response;
    const wire = toWire(err);
    this.rec.record.error_type ??= wire.type;
    try {
      response = wire.toResponse({ "request-id": this.requestId });
    } catch (e) {
      // The error's own headers were refused (an upstream's retry-after, say): say so plainly.
      response = new AtradError("api_error", `internal error: ${(e as Error).message}`).toResponse({ "request-id": this.requestId });
    }
    this.end(response.status);
    this.cancel(err);
    return response;
  }

  /** Stop whatever still runs for this exchange: the upstream call, a stream never handed out. */
  private cancel(reason: unknown) {
    this.upstream.abort(reason instanceof Error && reason.name === "AbortError" ? reason : new DOMException("the request ended", "AbortError"));
    const stream = this.stream;
    this.stream = undefined;
    void stream?.cancel().catch(() => {});
  }

  /** Settle the exchange once: slot back, idle timeout back, record out. Nothing here may throw. */
  private end(status: number, aborted = false) {
    if (this.ended) return;
    this.ended = true;
    this.stopWaiting();
    this.request.signal.removeEventListener("abort", this.clientLeft);
    const { deps, request, rec } = this;
    quietly(() => this.release?.());
    quietly(() => deps.restoreTimeout?.(request));
    quietly(() => deps.observe?.(rec.finish(status, aborted)));
  }

  /** Drop the commit window's timer and the shutdown listener: nothing waits on them any more. */
  private stopWaiting() {
    for (const t of this.timers.splice(0)) clearTimeout(t);
    if (this.onShutdown) this.deps.shutdown?.removeEventListener("abort", this.onShutdown);
    this.onShutdown = undefined;
  }

  /** Record where the request went; the response headers that say so. */
  private routed(d: Dispatched): Record<string, string> {
    const r = this.rec.record;
    r.target = d.target;
    r.provider = d.provider.name;
    r.fallbacks = d.fallbacks;
    return {
      "request-id": this.requestId,
      "x-atrad-target": headerText(d.target),
      ...(d.fallbacks.length ? { "x-atrad-fallbacks": headerText(d.fallbacks.map((f) => f.target).join(", ")) } : {}),
      ...(d.outcome.type === "events" ? (d.outcome.headers ?? {}) : {}),
    };
  }

  /** Resolves to LATE after `ms` (a timer we clear: a pending sleep would keep the exchange alive). */
  private window(ms: number): Promise<Late> {
    return new Promise((resolve) => this.timers.push(setTimeout(() => resolve(LATE), ms)));
  }

  /**
   * `work`, unless the daemon's grace ends first: a request still waiting then gets an error
   * answer (retry the next daemon), not a closed socket.
   */
  private orShutdown<T>(work: Promise<T>): Promise<T> {
    const stop = this.deps.shutdown;
    if (!stop) return work;
    this.stopped ??= stop.aborted
      ? Promise.reject(shuttingDown())
      : new Promise<never>((_, reject) => stop.addEventListener("abort", (this.onShutdown = () => reject(shuttingDown())), { once: true }));
    return Promise.race([work, this.stopped]);
  }

  /** The batches as single events, the first batch previewed, each event recorded. */
  private async *tap(batches: AsyncIterable<StreamEvent[]>): AsyncGenerator<StreamEvent> {
    let first = true;
    for await (const batch of batches) {
      for (const e of first ? this.preview(batch) : batch) {
        this.rec.onEvent(e);
        yield e;
      }
      first = false;
    }
  }
}

/**
 * Some clients (LangChain's streaming usage_metadata) read input_tokens from `message_start`
 * only. An upstream that leaves it out or at 0 (and reports no cached tokens either) gets a
 * local estimate from the request there; `message_delta` still carries the real count.
 */
function withPreview(batch: StreamEvent[], request: MessagesRequest): StreamEvent[] {
  const event = batch[0];
  if (event?.type !== "message_start") return batch;
  const usage = (event.message.usage ?? {}) as Record<string, unknown>;
  const known = Number(usage.input_tokens ?? 0) > 0 || Number(usage.cache_read_input_tokens ?? 0) > 0 || Number(usage.cache_creation_input_tokens ?? 0) > 0;
  if (known) return batch;
  // A new event, not a spread: a relayed event carries its original JSON, which would win.
  const previewed = { type: "message_start", message: { ...event.message, usage: { ...event.message.usage, input_tokens: estimateRequestTokens(request as never) } } } as StreamEvent;
  return [previewed, ...batch.slice(1)];
}

function quietly(fn: () => void) {
  try {
    fn();
  } catch {
    // Bookkeeping (a full disk under the request log, a socket already gone) never fails an answer.
  }
}
