/**
 * One error type that knows its response: every failure atrad reports leaves in Anthropic's
 * own envelope `{"type":"error","error":{"type","message"}}` with the matching status, so the
 * SDKs' retry logic (408/409/429/≥500, `retry-after`) and Claude Code's messages work unchanged.
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

export class AtradError extends Error {
  readonly type: ErrorType;
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(type: ErrorType, message: string, opts: { status?: number; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = "AtradError";
    this.type = type;
    this.status = opts.status ?? STATUS[type];
    this.headers = opts.headers ?? {};
  }

  toJSON() {
    return errorBody(this.type, this.message);
  }

  toResponse(extraHeaders: Record<string, string> = {}): Response {
    return new Response(JSON.stringify(this.toJSON()), {
      status: this.status,
      headers: { "content-type": "application/json", ...this.headers, ...extraHeaders },
    });
  }
}

export function errorBody(type: string, message: string) {
  return { type: "error" as const, error: { type, message } };
}

export const invalidRequest = (message: string) => new AtradError("invalid_request_error", message);
export const notFound = (message: string) => new AtradError("not_found_error", message);
