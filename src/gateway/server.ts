/**
 * Binding the gateway to a socket: the only place a server is started. It is node:http, not
 * Bun.serve, for what a client can send that Bun.serve (1.4) answers on its own: two pipelined
 * requests behind an async answer made it close the connection with neither answered; bodies
 * past its limit, malformed request lines and oversized headers got bare status lines; CONNECT
 * and a request without Host reached the app with URLs that do not parse. Here every answer is
 * atrad's envelope, and pipelined requests are answered in order. Exclusive bind: a second
 * daemon fails loudly instead of sharing the port.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { AtradError } from "../anthropic/errors.ts";
import { createApp } from "./app.ts";
import { directWriter, type EventWriter } from "./event-stream.ts";
import { tooLarge } from "./body.ts";
import type { GatewayDeps } from "./deps.ts";
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
  const sockets = new WeakMap<Request, Socket>();
  const idleMs = () => deps.config().server.idle_timeout_s * 1000;
  // Pipelined requests share a socket: the idle limit comes back only when none of them is
  // still being answered, or a quick second answer would arm it under a slow first one.
  const answering = new WeakMap<Socket, number>();
  const app = createApp({
    ...deps,
    relaxTimeout: (req) => {
      const socket = sockets.get(req);
      if (!socket) return;
      answering.set(socket, (answering.get(socket) ?? 0) + 1);
      socket.setTimeout(0);
    },
    restoreTimeout: (req) => {
      const socket = sockets.get(req);
      if (!socket) return;
      const left = (answering.get(socket) ?? 1) - 1;
      answering.set(socket, left);
      if (left <= 0) socket.setTimeout(idleMs());
    },
  });
  const shownHost = host.includes(":") ? `[${host}]` : host;
  let inFlight = 0;
  let stopping = false;
  let idle: Array<() => void> = [];

  // A missing Host is ours to answer (in an envelope), not the parser's bare 400.
  const server = createServer({ requireHostHeader: false }, async (req, res) => {
    inFlight++;
    res.once("close", () => {
      if (--inFlight === 0 && idle.length) for (const resolve of idle.splice(0)) resolve();
    });
    try {
      await answer(req, res);
    } catch (err) {
      if (!res.headersSent) await send(req, res, errorResponse(err)).catch(() => res.destroy());
      else res.destroy();
    }
  });

  async function answer(req: IncomingMessage, res: ServerResponse) {
    const config = deps.config();
    // Requests in progress are what costs memory (bodies, streams, upstream sockets): past the
    // cap new ones are refused at once rather than piled up.
    if (inFlight > config.server.max_connections) {
      return send(req, res, errorResponse(new AtradError("overloaded_error", "atrad is at server.max_connections requests in progress; retry shortly", { headers: { "retry-after": "1" } })));
    }
    if (!req.headers.host && req.httpVersion !== "1.0") {
      return send(req, res, errorResponse(new AtradError("invalid_request_error", "the request has no Host header: HTTP/1.1 requires one (e.g. Host: 127.0.0.1:8040)")));
    }
    const url = requestUrl(req, shownHost, server.address());
    if (!url) return send(req, res, errorResponse(new AtradError("invalid_request_error", `malformed request target "${String(req.url).slice(0, 100)}": send an origin-form path such as /v1/messages`)));
    const max = config.server.max_body_mb * 1024 * 1024;
    if (Number(req.headers["content-length"] ?? 0) > max) return refuseBody(req, res, max);
    const body = NO_BODY.has(req.method ?? "GET") ? undefined : await readBody(req, max);
    if (body === TOO_LARGE) return refuseBody(req, res, max);
    if (body === GONE) return;
    // The client leaving (before the answer is complete) aborts the request's signal.
    const left = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) left.abort();
    });
    const request = new Request(url, { method: req.method, headers: headersOf(req), body: body as BodyInit | undefined, signal: left.signal });
    sockets.set(request, req.socket);
    await send(req, res, await app.handle(request));
  }

  /** A body past server.max_body_mb: the envelope, then the rest read and dropped so the client sees it. */
  function refuseBody(req: IncomingMessage, res: ServerResponse, max: number) {
    res.shouldKeepAlive = false;
    req.resume();
    return send(req, res, errorResponse(tooLarge(max)));
  }

  async function send(req: IncomingMessage, res: ServerResponse, response: Response) {
    const headers: Record<string, string | string[]> = {};
    response.headers.forEach((v, k) => (headers[k] = v));
    const cookies = response.headers.getSetCookie();
    if (cookies.length) headers["set-cookie"] = cookies;
    headers["request-id"] ??= newRequestId();
    if (stopping) res.shouldKeepAlive = false;
    const status = response.status === 499 ? 400 : response.status;
    if (req.method === "HEAD" || !response.body || status === 204 || status === 304) {
      res.writeHead(status, headers);
      res.end();
      return;
    }
    if (!String(headers["content-type"] ?? "").includes("event-stream")) {
      const bytes = Buffer.from(await response.arrayBuffer());
      headers["content-length"] = String(bytes.byteLength);
      res.writeHead(status, headers);
      res.end(bytes);
      return;
    }
    res.writeHead(status, headers);
    // atrad's own event stream is written straight into the socket: no reader, no encoder.
    const writer = directWriter(response.body);
    if (writer) return writeEvents(writer, res);
    res.flushHeaders();
    await pipe(response.body, res);
  }

  server.timeout = idleMs();
  server.keepAliveTimeout = idleMs();
  server.on("clientError", (err: Error & { code?: string }, socket: Socket) => rejectRaw(err, socket));
  // CONNECT is for proxies; without this listener the socket would just be dropped.
  server.on("connect", (_req: IncomingMessage, socket: Socket) => {
    writeRaw(socket, 405, new AtradError("invalid_request_error", "atrad is not a proxy: CONNECT is not supported; send POST /v1/messages", { status: 405 }));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: Error & { code?: string }) => reject(err.code === "EADDRINUSE" ? new PortInUseError(host, port) : err));
    server.listen({ host, port, exclusive: true }, () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  return {
    url: `http://${shownHost}:${bound}`,
    port: bound,
    get inFlight() {
      return inFlight;
    },
    async stop(force = false) {
      stopping = true;
      server.close();
      server.closeIdleConnections();
      if (force) return void server.closeAllConnections();
      if (inFlight > 0) await new Promise<void>((resolve) => idle.push(resolve));
      server.closeIdleConnections();
    },
  };
}

const TOO_LARGE = Symbol("too large");
const GONE = Symbol("client gone");

/** The whole body (atrad reads JSON whole anyway), TOO_LARGE once it passes `max` bytes, GONE if the client left. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | typeof TOO_LARGE | typeof GONE | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > max) {
        req.off("data", onData);
        chunks.length = 0;
        resolve(TOO_LARGE);
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(size === 0 ? undefined : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once("error", reject);
    req.once("close", () => {
      if (!req.complete) resolve(GONE);
    });
  });
}

/** An event stream into the socket with backpressure; the client leaving cancels it (and so the upstream). */
async function writeEvents(writer: EventWriter, res: ServerResponse) {
  const gone = () => {
    if (!res.writableFinished) void writer.cancel();
  };
  res.once("close", gone);
  try {
    await writer.run({
      write: (text) => !res.destroyed && res.write(text),
      drained: () => drained(res),
      end: (text) => void (res.destroyed || res.end(text)),
      fail: () => res.destroy(),
    });
  } finally {
    res.off("close", gone);
  }
}

/** Resolves once the socket takes writes again, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.once("drain", done);
    res.once("close", done);
  });
}

/** Stream a body to the socket with backpressure; the client leaving cancels the body (and so the upstream). */
async function pipe(body: ReadableStream<Uint8Array>, res: ServerResponse) {
  const reader = body.getReader();
  const gone = () => void reader.cancel().catch(() => {});
  res.once("close", gone);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) return;
      if (!res.write(value)) await new Promise<void>((resolve) => {
        res.once("drain", resolve);
        res.once("close", resolve);
      });
    }
    res.end();
  } catch {
    res.destroy();
  } finally {
    res.off("close", gone);
  }
}

function headersOf(req: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}

/**
 * The request's URL, from its target and Host. An absolute-form target keeps only its path (the
 * Host header is what the guard checks); a request without Host (HTTP/1.0) is addressed to the
 * bound socket. Anything else (`*`, a bare authority, a Host that is not a host) is undefined.
 */
export function requestUrl(req: { url?: string; headers: { host?: string } }, boundHost: string, address: unknown): URL | undefined {
  const target = req.url ?? "";
  const authority = req.headers.host || `${boundHost}:${(address as { port?: number } | null)?.port ?? 0}`;
  try {
    if (target.startsWith("/")) return new URL(`http://${authority}${target}`);
    const abs = new URL(target);
    if (abs.protocol !== "http:" && abs.protocol !== "https:") return undefined;
    return new URL(`http://${authority}${abs.pathname}${abs.search}`);
  } catch {
    return undefined;
  }
}

/** What the HTTP parser refused, in atrad's envelope (the connection then closes). */
function rejectRaw(err: Error & { code?: string }, socket: Socket) {
  if (err.code === "ECONNRESET" || !socket.writable) return void socket.destroy();
  const [status, message] =
    err.code === "HPE_HEADER_OVERFLOW"
      ? [431, "request headers are too large: keep them under 16 KB"]
      : err.code === "HPE_INVALID_VERSION"
        ? [505, "unsupported HTTP version: atrad speaks HTTP/1.1"]
        : [400, `malformed HTTP request (${err.message.replace(/^Parse Error: /, "")}): send an HTTP/1.1 request such as POST /v1/messages`];
  writeRaw(socket, status, new AtradError("invalid_request_error", message, { status }));
}

function writeRaw(socket: Socket, status: number, err: AtradError) {
  const body = JSON.stringify(err.toJSON());
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? "Error"}\r\ncontent-type: application/json\r\nrequest-id: ${newRequestId()}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

const REASONS: Record<number, string> = { 400: "Bad Request", 405: "Method Not Allowed", 431: "Request Header Fields Too Large", 505: "HTTP Version Not Supported" };
