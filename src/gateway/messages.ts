/**
 * POST /v1/messages and /v1/messages/count_tokens. The handler reads and checks the body,
 * asks the router for an answer, and writes it: SSE through the one writer, or a Message
 * folded by the one aggregator. Claude Code sends `?beta=true`: the query is ignored.
 */
import { Elysia } from "elysia";
import { AtradError } from "../anthropic/errors.ts";
import { CountTokensRequestSchema, MessagesRequestSchema } from "../anthropic/schema.ts";
import { sessionIdOf } from "../anthropic/session.ts";
import { aggregateStream, errorEvent, guardStream } from "../anthropic/stream.ts";
import type { StreamEvent } from "../anthropic/types.ts";
import { errorMessageOf, UpstreamError } from "../providers/upstream.ts";
import type { Dispatched } from "../router/router.ts";
import { countRequestTokens } from "../tokens/count.ts";
import { compileSchema, readJson } from "./body.ts";
import type { GatewayDeps } from "./deps.ts";
import { createEventStream } from "./event-stream.ts";
import { RecordBuilder } from "./record.ts";

const checkMessages = compileSchema(MessagesRequestSchema);
const checkCount = compileSchema(CountTokensRequestSchema);

export function messagesRoutes(deps: GatewayDeps) {
  return new Elysia({ name: "messages" })
    .post("/v1/messages", ({ request }) => handleMessages(request, deps), { parse: "none" })
    .post(
      "/v1/messages/count_tokens",
      async ({ request }) => {
        const body = await readJson(request, checkCount, deps.config().server.max_body_mb * 1024 * 1024);
        return Response.json({ input_tokens: await countRequestTokens(body as never) });
      },
      { parse: "none" },
    );
}

async function handleMessages(request: Request, deps: GatewayDeps): Promise<Response> {
  const config = deps.config();
  const body = await readJson(request, checkMessages, config.server.max_body_mb * 1024 * 1024);
  deps.relaxTimeout?.(request);

  const requestId = `req_${crypto.randomUUID().replaceAll("-", "")}`;
  const stream = body.stream === true;
  const rec = new RecordBuilder(requestId, sessionIdOf(request.headers, body.metadata), body.model, stream);
  // The provider slot is given back when the response is over, however it ended (see
  // Dispatched.release) — also when it ends before the router has even answered.
  let release: (() => void) | undefined;
  let finished = false;
  const done = (status: number, aborted = false) => {
    finished = true;
    release?.();
    deps.restoreTimeout?.(request);
    deps.observe?.(rec.finish(status, aborted));
  };

  // The client leaving aborts the upstream call at once, wherever it is.
  const upstream = new AbortController();
  const abort = () => upstream.abort(new DOMException("client disconnected", "AbortError"));
  request.signal.addEventListener("abort", abort, { once: true });

  const dispatching = deps.router.dispatch({ request: body, headers: request.headers, requestId, signal: upstream.signal });
  dispatching.then(
    (d) => {
      release = d.release;
      if (finished) d.release();
    },
    () => {},
  );
  // A streaming client gets its 200 and pings once the upstream has been silent for a ping
  // interval: Ollama sends no headers until the first token (model load + prefill can take
  // minutes), and idle connections get closed. Until then, errors keep their real status.
  if (stream) {
    // A timer we clear, not Bun.sleep: a pending sleep kept every request's objects (Request,
    // Headers, AbortControllers, the event chain) alive for the whole ping interval — 300 MB
    // of RSS at 8,000 requests/s with the 10 s default.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const silent = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), config.server.ping_interval_s * 1000)));
    const early = await Promise.race([dispatching.then(() => false, () => false), silent]);
    clearTimeout(timer);
    if (early) return lateStream(dispatching, { request, deps, rec, requestId, abort, done, pingMs: config.server.ping_interval_s * 1000 });
  }

  let dispatched;
  try {
    dispatched = await dispatching;
  } catch (err) {
    request.signal.removeEventListener("abort", abort);
    if (request.signal.aborted) {
      done(499, true);
      return new Response(null, { status: 499 });
    }
    const response = errorResponse(err, requestId);
    rec.record.error_type = errorTypeOf(err);
    done(response.status);
    return response;
  }

  const { outcome } = dispatched;
  const headers = { ...routingHeaders(dispatched, rec, requestId), ...(outcome.headers ?? {}) };

  if (outcome.type === "body") {
    request.signal.removeEventListener("abort", abort);
    rec.record.ttft_ms = Math.round(performance.now() - rec.started);
    try {
      const usage = (JSON.parse(outcome.body) as { usage?: { input_tokens?: number; output_tokens?: number }; stop_reason?: string }) ?? {};
      rec.record.input_tokens = usage.usage?.input_tokens ?? null;
      rec.record.output_tokens = usage.usage?.output_tokens ?? null;
      rec.record.stop_reason = usage.stop_reason ?? null;
    } catch {}
    done(outcome.status);
    return new Response(outcome.body, { status: outcome.status, headers: { ...outcome.headers, ...headers } });
  }

  const events = guardStream(outcome.events, dispatched.target);
  if (!stream) {
    try {
      const message = await aggregateStream(tap(events, rec));
      done(200);
      return Response.json(message, { headers });
    } catch (err) {
      const response = errorResponse(err, requestId);
      done(response.status, request.signal.aborted);
      return response;
    } finally {
      request.signal.removeEventListener("abort", abort);
    }
  }

  const body$ = createEventStream(events, {
    pingMs: config.server.ping_interval_s * 1000,
    stop: deps.shutdown,
    onEvent: (e) => rec.onEvent(e),
    onCancel: abort,
    onClose: (aborted) => {
      request.signal.removeEventListener("abort", abort);
      done(200, aborted || request.signal.aborted);
    },
  });
  return new Response(body$, { status: 200, headers: { ...SSE_HEADERS, ...headers } });
}

const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" };

function routingHeaders(d: Dispatched, rec: RecordBuilder, requestId: string): Record<string, string> {
  rec.record.target = d.target;
  rec.record.provider = d.provider.name;
  rec.record.fallbacks = d.fallbacks;
  return {
    "request-id": requestId,
    "x-atrad-target": d.target,
    ...(d.fallbacks.length ? { "x-atrad-fallbacks": d.fallbacks.map((f) => f.target).join(", ") } : {}),
  };
}

function errorTypeOf(err: unknown): string {
  return err instanceof AtradError ? err.type : err instanceof UpstreamError ? err.errorType : "api_error";
}

/** The stream committed before the router had an answer: its outcome (or error) becomes events. */
function lateStream(
  dispatching: Promise<Dispatched>,
  ctx: { request: Request; deps: GatewayDeps; rec: RecordBuilder; requestId: string; abort: () => void; done: (status: number, aborted?: boolean) => void; pingMs: number },
): Response {
  const { rec, requestId } = ctx;
  async function* events(): AsyncGenerator<StreamEvent> {
    let d: Dispatched;
    try {
      d = await dispatching;
    } catch (err) {
      rec.record.error_type = errorTypeOf(err);
      const e = err instanceof UpstreamError ? new AtradError(err.errorType, err.body?.anthropic ? (errorMessageOf(err.body.text) ?? err.message) : err.message) : err;
      yield errorEvent(e instanceof AtradError ? e.type : "api_error", e instanceof Error ? e.message : String(e));
      return;
    }
    routingHeaders(d, rec, requestId);
    if (d.outcome.type === "body") {
      // Only the anthropic kind answers with a body, and only to non-streaming requests.
      yield errorEvent("api_error", `${d.target} answered a streaming request with a plain body`);
      return;
    }
    yield* guardStream(d.outcome.events, d.target);
  }
  const body = createEventStream(events(), {
    pingMs: ctx.pingMs,
    initialPing: true,
    stop: ctx.deps.shutdown,
    onEvent: (e) => rec.onEvent(e),
    onCancel: ctx.abort,
    onClose: (aborted) => {
      ctx.request.signal.removeEventListener("abort", ctx.abort);
      ctx.done(200, aborted || ctx.request.signal.aborted);
    },
  });
  return new Response(body, { status: 200, headers: { ...SSE_HEADERS, "request-id": requestId } });
}

async function* tap(events: AsyncIterable<StreamEvent>, rec: RecordBuilder): AsyncGenerator<StreamEvent> {
  for await (const e of events) {
    rec.onEvent(e);
    yield e;
  }
}

/** Errors leave in Anthropic's envelope; an Anthropic upstream's own error body is relayed as is. */
export function errorResponse(err: unknown, requestId?: string): Response {
  const extra: Record<string, string> = requestId ? { "request-id": requestId } : {};
  if (err instanceof AtradError) return err.toResponse(extra);
  if (err instanceof UpstreamError) {
    if (err.body?.anthropic && isAnthropicError(err.body.text)) {
      return new Response(err.body.text, {
        status: err.status,
        headers: { "content-type": err.body.contentType, ...(err.retryAfter ? { "retry-after": err.retryAfter } : {}), ...extra },
      });
    }
    return new AtradError(err.errorType, err.message, {
      status: err.status === 0 ? 529 : err.status,
      headers: err.retryAfter ? { "retry-after": err.retryAfter } : {},
    }).toResponse(extra);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new AtradError("api_error", `internal error: ${message}`).toResponse(extra);
}

function isAnthropicError(text: string): boolean {
  try {
    const j = JSON.parse(text) as { type?: string; error?: { type?: string } };
    return j.type === "error" && typeof j.error?.type === "string";
  } catch {
    return false;
  }
}
