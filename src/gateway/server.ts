/**
 * Binding the gateway to a socket: the only place a server is started. It is Bun.listen with
 * http-parser-js reading the requests (`http/`), not Bun.serve and not node:http. Bun.serve (1.4)
 * closes the connection when a pipelined request arrives behind an async answer, with neither
 * answered, and answers its own refusals (bodies past its limit, malformed request lines,
 * oversized headers) with bare status lines. node:http answers all of that our way, but costs:
 * a pass-through proxy relaying a 20-delta event stream ran 16.7k req/s at 59 MB RSS on it, and
 * 22.3k req/s at 44.5 MB on Bun.listen with http-parser-js (wrk -t2 -c64, streaming POSTs).
 * Here every answer is atrad's envelope, and pipelined requests are answered in order.
 * Exclusive bind: a second daemon fails loudly instead of sharing the port.
 */
import { AtradError } from "../anthropic/errors.ts";
import { createApp } from "./app.ts";
import { tooLarge } from "./body.ts";
import type { GatewayDeps } from "./deps.ts";
import type { Connection } from "./http/connection.ts";
import { GONE, TOO_LARGE, type Exchange } from "./http/exchange.ts";
import { listenHttp, type Listening } from "./http/listen.ts";
import { errorResponse, newRequestId } from "./lifecycle.ts";

export class PortInUseError extends Error {
  constructor(readonly host: string, readonly port: number) {
    super(`port ${port} on ${host} is in use: another atrad (or another program) is listening there. Check with \`atrad status\`, or pick another with --port.`);
  }
}

export interface RunningGateway {
  url: string;
  port: number;
  /** Requests being answered right now. */
  readonly inFlight: number;
  /** Stop accepting; resolves once every request in flight is answered (`force`: cut them now). */
  stop(force?: boolean): Promise<void>;
}

const NO_BODY = new Set(["GET", "HEAD", "OPTIONS", "DELETE"]);

export async function startGateway(deps: Omit<GatewayDeps, "relaxTimeout" | "restoreTimeout">, host: string, port: number): Promise<RunningGateway> {
  const connections = new WeakMap<Request, Connection>();
  // Pipelined requests share a connection, answered one at a time: its idle limit comes back
  // only when no answer on it is still relaxed.
  const app = createApp({
    ...deps,
    relaxTimeout: (req) => connections.get(req)?.relax(),
    restoreTimeout: (req) => connections.get(req)?.restore(),
  });
  const shownHost = host.includes(":") ? `[${host}]` : host;
  const maxBodyBytes = () => deps.config().server.max_body_mb * 1024 * 1024;
  let server: Listening;

  async function answer(ex: Exchange): Promise<Response | undefined> {
    const config = deps.config();
    // Requests in progress are what costs memory (bodies, streams, upstream sockets): past the
    // cap new ones are refused at once rather than piled up.
    if (server.inFlight > config.server.max_connections) {
      return errorResponse(new AtradError("overloaded_error", "atrad is at server.max_connections requests in progress; retry shortly", { headers: { "retry-after": "1" } }));
    }
    if (ex.host === undefined && !ex.http10) {
      return errorResponse(new AtradError("invalid_request_error", "the request has no Host header: HTTP/1.1 requires one (e.g. Host: 127.0.0.1:8040)"));
    }
    const url = requestUrl(ex.target, ex.host, shownHost, server.port);
    if (!url) return errorResponse(new AtradError("invalid_request_error", `malformed request target "${ex.target.slice(0, 100)}": send an origin-form path such as /v1/messages`));
    const max = maxBodyBytes();
    if ((ex.contentLength ?? 0) > max) return refuseBody(ex, max);
    const body = NO_BODY.has(ex.method) ? undefined : await ex.body();
    if (body === TOO_LARGE) return refuseBody(ex, max);
    if (body === GONE) return undefined;
    let request: Request;
    try {
      request = new Request(url, { method: ex.method, headers: headersOf(ex.rawHeaders), body: body as BodyInit | undefined, signal: ex.signal });
    } catch (err) {
      // A header name or value the Fetch API refuses (a control character, a space in a name).
      return errorResponse(new AtradError("invalid_request_error", `malformed HTTP request (${(err as Error).message}): send an HTTP/1.1 request such as POST /v1/messages`));
    }
    connections.set(request, ex.conn);
    return app.handle(request);
  }

  /** A body past server.max_body_mb: the envelope, and the connection closes (after the rest is read and dropped). */
  function refuseBody(ex: Exchange, max: number) {
    ex.refuseBody();
    return errorResponse(tooLarge(max));
  }

  try {
    server = listenHttp(host, port, {
      answer,
      failed: (err) => errorResponse(err),
      refusal: (status, message) => errorResponse(new AtradError("invalid_request_error", message, { status })),
      requestId: newRequestId,
      idleMs: () => deps.config().server.idle_timeout_s * 1000,
      maxBodyBytes,
    });
  } catch (err) {
    throw (err as { code?: string }).code === "EADDRINUSE" ? new PortInUseError(host, port) : err;
  }
  return {
    url: `http://${shownHost}:${server.port}`,
    port: server.port,
    get inFlight() {
      return server.inFlight;
    },
    stop: (force = false) => server.stop(force),
  };
}

function headersOf(raw: string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}

/**
 * The request's URL, from its target and Host. An absolute-form target keeps only its path (the
 * Host header is what the guard checks); a request without Host (HTTP/1.0) is addressed to the
 * bound socket. Anything else (`*`, a bare authority, a Host that is not a host) is undefined.
 */
export function requestUrl(target: string, host: string | undefined, boundHost: string, boundPort: number): URL | undefined {
  const authority = host || `${boundHost}:${boundPort}`;
  try {
    if (target.startsWith("/")) return new URL(`http://${authority}${target}`);
    const abs = new URL(target);
    if (abs.protocol !== "http:" && abs.protocol !== "https:") return undefined;
    return new URL(`http://${authority}${abs.pathname}${abs.search}`);
  } catch {
    return undefined;
  }
}
