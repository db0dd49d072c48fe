/**
 * The one place adapters touch the network: fetch with the provider's timeout and the
 * client's abort signal, and the error type that tells the router whether to fall back.
 */
import { errorTypeForStatus } from "../anthropic/errors.ts";
import type { ProviderBase as Provider } from "./schema.ts";
import { readPrefix, readText, tryJson, type BodyOptions } from "../wire/body.ts";
import { plainCause } from "../wire/cause.ts";

/** What kind of failure a status-0 UpstreamError was, for callers that retry on one kind. */
export type NetworkFailure = "refused" | "timeout" | "network";

/**
 * An upstream failure before any byte reached the client. `status` 0 means no HTTP answer
 * (refused, reset, timeout). `body` is the upstream's own error body, relayed unmodified when
 * it is the final answer and the upstream speaks Anthropic.
 */
export class UpstreamError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: { text: string; contentType: string; anthropic: boolean },
    readonly retryAfter?: string,
    readonly network?: NetworkFailure,
  ) {
    super(message);
    this.name = "UpstreamError";
  }

  /**
   * Whether the next target of a route should be tried: unreachable, model missing, timed out,
   * busy or broken. Any other 4xx is the request's own fault and would fail on every target.
   */
  get fallback(): boolean {
    return this.status === 0 || this.status === 404 || this.status === 408 || this.status === 429 || this.status >= 500;
  }

  get errorType() {
    return this.status === 0 ? "overloaded_error" : errorTypeForStatus(this.status);
  }
}

export interface UpstreamInit {
  method?: string;
  headers?: Record<string, string>;
  /** Always a string: some servers (mlx_lm.server) answer 411 to a chunked body. */
  body?: string;
  /** What failures name: `provider/model` for a generation, the provider for a model list. */
  target?: string;
  /**
   * The caller reads a 2xx body through wire's UpstreamBody with the provider's idle deadline
   * (streamDeadlines): that deadline already ends a silent body, so the body is not wrapped in
   * a second stream to watch it (one stream layer less per response). Any other body (an error
   * body, read by upstreamFailure) is still watched.
   */
  ownDeadlines?: boolean;
}

/**
 * fetch with two limits: the client's abort signal (for the whole exchange) and the provider's
 * timeout until the response headers arrive. Bun's own `timeout` fetch option did not fire in
 * our tests (Bun 1.4.5), so the first-byte deadline is a timer of ours that is cleared once
 * the upstream has answered; a stream that then takes an hour is fine.
 *
 * Redirects are never followed: following one would send the provider's credentials and the
 * prompt to wherever `Location` points. A 3xx is a 502 naming the provider.
 */
export async function fetchUpstream(provider: Provider, url: string, init: UpstreamInit, signal: AbortSignal): Promise<Response> {
  const target = init.target ?? provider.name;
  const ac = new AbortController();
  const forward = () => ac.abort(signal.reason);
  if (signal.aborted) forward();
  else signal.addEventListener("abort", forward, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort(new DOMException("first-byte timeout", "TimeoutError"));
  }, provider.timeout_s * 1000);
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? "POST",
      headers: init.headers,
      body: init.body,
      signal: ac.signal,
      redirect: "manual",
      // Disable Bun's 300 s socket idle timer: a non-streaming generation is silent until done.
      timeout: false,
      decompress: true,
    } as RequestInit);
  } catch (err) {
    signal.removeEventListener("abort", forward);
    if (signal.aborted) throw err;
    const at = new URL(url).host;
    if (timedOut) throw new UpstreamError(0, `${target} sent no answer within ${provider.timeout_s}s (${at}); raise providers.${provider.name}.timeout_s to wait longer`, undefined, undefined, "timeout");
    const cause = plainCause(err);
    const refused = cause === "connection refused";
    const hint = refused ? ": is the server running?" : "";
    throw new UpstreamError(0, `${target} is unreachable: ${cause} at ${at}${hint}`, undefined, undefined, refused ? "refused" : "network");
  } finally {
    clearTimeout(timer);
  }
  if (res.status >= 300 && res.status < 400) {
    signal.removeEventListener("abort", forward);
    ac.abort(new DOMException("redirect not followed", "AbortError"));
    await res.body?.cancel().catch(() => {});
    const location = (res.headers.get("location") ?? "").replace(/[^\x20-\x7e]/g, "?").slice(0, 200);
    throw new UpstreamError(
      502,
      `${target} answered ${res.status}, a redirect${location ? ` to ${location}` : ""}; atrad does not follow upstream redirects (they would resend the credentials and the prompt) — set providers.${provider.name}.url to the final address`,
    );
  }
  // No body: nothing left for the caller's abort to stop.
  if (!res.body) {
    signal.removeEventListener("abort", forward);
    return res;
  }
  // Its caller reads a 2xx body with its own deadlines; a failure's body is read here (watched).
  // There the listener stays for as long as the caller's signal lives (one exchange): it is
  // what stops a read already waiting on the upstream when the client leaves.
  if (init.ownDeadlines && res.ok) return res;
  return watchSilence(res, provider.timeout_s * 1000, ac, () => signal.removeEventListener("abort", forward));
}

/**
 * The same limit between body bytes: an upstream that answered and then went silent for
 * `timeout_s` (a wedged server, a half-open socket) ends the exchange with a TimeoutError
 * instead of holding the client's stream open on pings forever. Cancelling the body (the
 * client left) aborts the upstream request. The error's message reads after the target's
 * name ("<target> sent nothing …"): whoever reads the body names the target.
 */
function watchSilence(res: Response, ms: number, ac: AbortController, done: () => void): Response {
  const reader = res.body!.getReader();
  // One timer per response, re-armed per chunk (refresh is cheap; a promise and a timer per
  // read showed up in profiles). It only counts while we wait on the upstream: a client that
  // reads slowly is not the upstream's silence.
  let waiting = false;
  const timer = setTimeout(function fire() {
    if (!waiting) return void timer.refresh();
    ac.abort(new DOMException(`sent nothing for ${ms / 1000}s mid-response (timeout_s)`, "TimeoutError"));
  }, ms);
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        waiting = true;
        timer.refresh();
        try {
          const r = await reader.read();
          waiting = false;
          if (r.done) {
            clearTimeout(timer);
            done();
            controller.close();
          } else controller.enqueue(r.value);
        } catch (err) {
          clearTimeout(timer);
          done();
          const reason = ac.signal.aborted ? ac.signal.reason : err;
          controller.error(reason);
          ac.abort(reason);
          reader.cancel(reason).catch(() => {});
        }
      },
      cancel(reason) {
        clearTimeout(timer);
        done();
        ac.abort(reason);
        return reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/**
 * The deadlines on a streamed answer's body: no content for `timeout_s`, and at most
 * `response_deadline_s` in all, each named by its key when it ends a response.
 */
export function streamDeadlines(provider: Provider & { response_deadline_s?: number }, target: string): BodyOptions {
  const key = (k: string) => `providers.${provider.name}.${k}`;
  return {
    target,
    idleMs: provider.timeout_s * 1000,
    idleKey: key("timeout_s"),
    totalMs: (provider.response_deadline_s ?? 0) * 1000,
    totalKey: key("response_deadline_s"),
  };
}

/**
 * A small JSON answer (a model list), read within the frame cap; undefined when it is not
 * JSON. A broken or oversized body is an UpstreamError, so callers treat it like any failure.
 */
export async function readJson(res: Response, target: string): Promise<unknown> {
  if (!res.body) return undefined;
  try {
    return tryJson(await readText(res.body, { target }));
  } catch (err) {
    if ((err as { name?: string })?.name === "AbortError") throw err;
    throw new UpstreamError(502, err instanceof Error ? err.message : String(err));
  }
}

/** An error body longer than this is cut: its first part says what went wrong. */
const MAX_ERROR_BODY = 1024 * 1024;

/** Turn a non-2xx upstream response into an UpstreamError, keeping (the first MiB of) its body. */
export async function upstreamFailure(res: Response, label: string, anthropic: boolean): Promise<UpstreamError> {
  const text = await readPrefix(res.body, MAX_ERROR_BODY);
  const detail = errorMessageOf(text) || text.slice(0, 300) || res.statusText || "no body";
  return new UpstreamError(
    res.status,
    `${label} answered ${res.status}: ${detail}`,
    { text, contentType: res.headers.get("content-type") ?? "application/json", anthropic },
    res.headers.get("retry-after") ?? undefined,
  );
}

/** Pull a human message out of the usual error bodies: Anthropic, OpenAI, Ollama, FastAPI. */
export function errorMessageOf(text: string): string | undefined {
  try {
    const j = JSON.parse(text) as Record<string, any>;
    if (typeof j.error === "string") return j.error;
    if (j.error && typeof j.error.message === "string") return j.error.message;
    if (typeof j.detail === "string") return j.detail;
    if (typeof j.message === "string") return j.message;
  } catch {}
  return undefined;
}

export function authHeaders(provider: Provider): Record<string, string> {
  return provider.apiKey ? { "x-api-key": provider.apiKey, authorization: `Bearer ${provider.apiKey}` } : {};
}
