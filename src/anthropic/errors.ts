/**
 * One error type that knows its response: every failure atrad reports leaves in Anthropic's
 * own envelope `{"type":"error","error":{"type","message"}}` with the matching status (or, once
 * a stream's 200 is out, as an `error` event), so the SDKs' retry logic (408/409/429/≥500,
 * `retry-after`, `x-should-retry`) and Claude Code's messages work unchanged.
 */

export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "api_error"
  | "timeout_error"
  | "overloaded_error";

const STATUS: Record<ErrorType, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

const isErrorType = (t: string): t is ErrorType => Object.hasOwn(STATUS, t);

/** Map an upstream HTTP status onto Anthropic's error types (as Ollama's middleware does). */
export function errorTypeForStatus(status: number): ErrorType {
  if (status === 400 || status === 422) return "invalid_request_error";
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 413) return "request_too_large";
  if (status === 429) return "rate_limit_error";
  if (status === 503 || status === 529) return "overloaded_error";
  if (status === 504 || status === 408) return "timeout_error";
  return "api_error";
}

export interface ErrorOptions {
  status?: number;
  headers?: Record<string, string>;
  /** An Anthropic upstream's own error body, answered unmodified (Claude Code reads its wording). */
  relay?: { text: string; contentType: string };
}

export class AtradError extends Error {
  readonly type: ErrorType;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly relay?: { text: string; contentType: string };

  constructor(type: ErrorType, message: string, opts: ErrorOptions = {}) {
    super(message);
    this.name = "AtradError";
    this.type = type;
    this.status = opts.status ?? STATUS[type];
    this.headers = opts.headers ?? {};
    this.relay = opts.relay;
  }

  /**
   * Anything thrown, as the error the client is told about: aborts and timeouts say what they
   * are; anything else thrown while relaying `upstream`'s stream is that upstream breaking off
   * (a 502), and elsewhere an "internal error" (a bug of atrad's).
   */
  static from(err: unknown, upstream?: string): AtradError {
    if (err instanceof AtradError) return err;
    if (err instanceof Error && err.name === "TimeoutError") return new AtradError("timeout_error", err.message);
    if (err instanceof Error && err.name === "AbortError") return new AtradError("api_error", "request aborted");
    const message = err instanceof Error ? err.message : String(err);
    if (upstream) return new AtradError("api_error", `${upstream}: the stream broke off: ${message}`, { status: 502 });
    return new AtradError("api_error", `internal error: ${message}`);
  }

  /**
   * An upstream's `error` event, answered before any 200 (or folded into a whole answer): type
   * names outside the list become api_error, and an api_error is the upstream breaking (a 502,
   * not a 500 that reads as atrad's own fault).
   */
  static fromEvent(error: { type: string; message: string }): AtradError {
    const type = isErrorType(error.type) ? error.type : "api_error";
    return new AtradError(type, error.message, type === "api_error" ? { status: 502 } : {});
  }

  toJSON() {
    return errorBody(this.type, this.message);
  }

  /** The same failure once a stream's 200 is committed. */
  toEvent(): { type: "error"; error: { type: string; message: string } } {
    return errorBody(this.type, this.message);
  }

  toResponse(extraHeaders: Record<string, string> = {}): Response {
    const body = this.relay?.text ?? JSON.stringify(this.toJSON());
    const contentType = this.relay?.contentType ?? "application/json";
    return new Response(body, { status: this.status, headers: { "content-type": contentType, ...this.headers, ...extraHeaders } });
  }
}

export function errorBody(type: string, message: string) {
  return { type: "error" as const, error: { type, message } };
}

export const invalidRequest = (message: string) => new AtradError("invalid_request_error", message);
export const notFound = (message: string) => new AtradError("not_found_error", message);
/** Said to every request still open when the daemon stops: retrying reaches the next daemon. */
export const shuttingDown = () => new AtradError("overloaded_error", "atrad is shutting down; retry the request", { headers: { "retry-after": "1" } });
