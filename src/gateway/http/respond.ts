/**
 * A Web `Response` onto the wire as HTTP/1.1: the status line with its reason phrase, every
 * header (each set-cookie on its own line), and the body framed for the connection — a
 * content-length for whole bodies, chunks for streams on a connection kept alive (close-delimited
 * for HTTP/1.0), nothing for HEAD, 204 and 304. atrad's own event streams are written by their
 * writer straight into the socket (`directWriter`); other streams are piped with backpressure.
 */
import { directWriter, type EventWriter } from "../event-stream.ts";
import type { Out } from "./out.ts";

export interface Target {
  out: Out;
  /** A HEAD request: headers only. */
  head: boolean;
  keepAlive: boolean;
  http10: boolean;
  /** Filled in while a stream is written: the connection calls it when the client leaves. */
  gone?: () => void;
  /** Set at the first byte written: until then a failure can still be answered. */
  started?: boolean;
  /** Cut the connection (a stream failed after its headers went out). */
  cut(): void;
}

/** Writes `response`; resolves once its last byte is handed to `out` (not necessarily flushed). */
export async function writeResponse(t: Target, response: Response, requestId: () => string): Promise<void> {
  // 499 (the client closed the request) is how the lifecycle records a departure; on the wire it is a 400.
  const status = response.status === 499 ? 400 : response.status;
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? (response.statusText || "Unknown")}\r\n`;
  let type = "";
  let length = "";
  let hasId = false;
  response.headers.forEach((v, k) => {
    // Framing and the connection's fate are this writer's, not the app's.
    if (k === "transfer-encoding" || k === "connection" || k === "keep-alive") return;
    if (k === "content-length") return void (length = v);
    if (k === "content-type") type = v;
    else if (k === "request-id") hasId = true;
    head += `${k}: ${v}\r\n`;
  });
  if (!hasId) head += `request-id: ${requestId()}\r\n`;
  head += `date: ${httpDate()}\r\n`;
  if (!t.keepAlive) head += "connection: close\r\n";
  else if (t.http10) head += "connection: keep-alive\r\n";
  const body = response.body;
  if (t.head || !body || status === 204 || status === 304 || status < 200) {
    if (body) cancel(body);
    if (t.head ? length : status !== 204 && status !== 304 && status >= 200) head += `content-length: ${length || "0"}\r\n`;
    t.started = true;
    t.out.write(latin1(head + "\r\n"));
    return;
  }
  if (!type.includes("event-stream")) {
    if (TEXT.test(type) && !OTHER_CHARSET.test(type)) {
      const text = await response.text();
      const size = Buffer.byteLength(text);
      const h = latin1(`${head}content-length: ${size}\r\n\r\n`);
      t.started = true;
      if (typeof h === "string") t.out.write(h + text, h.length + size);
      else t.out.write(Buffer.concat([h, Buffer.from(text)]));
    } else {
      const bytes = await response.bytes();
      t.started = true;
      t.out.write(latin1(`${head}content-length: ${bytes.byteLength}\r\n\r\n`));
      t.out.write(bytes);
    }
    return;
  }
  // A stream: chunked on a kept-alive connection, else delimited by the close.
  const chunked = t.keepAlive && !t.http10;
  const start = latin1(`${head}${chunked ? "transfer-encoding: chunked\r\n" : ""}\r\n`);
  const writer = directWriter(body);
  t.started = true;
  if (writer) return writeEvents(t, writer, start, chunked);
  return pipe(t, body, start, chunked);
}

/** atrad's event stream into the socket; the head goes out with the first batch, in one write. */
async function writeEvents(t: Target, writer: EventWriter, start: string | Buffer, chunked: boolean) {
  let pre = "";
  if (typeof start === "string") pre = start;
  else t.out.write(start);
  const frame = (text: string, last: boolean) => {
    const size = Buffer.byteLength(text);
    let out = pre;
    if (size && chunked) out += `${size.toString(16)}\r\n${text}\r\n`;
    else if (size) out += text;
    if (last && chunked) out += "0\r\n\r\n";
    const bytes = out.length - text.length + size;
    pre = "";
    return [out, bytes] as const;
  };
  t.gone = () => void writer.cancel();
  await writer.run({
    write: (text) => {
      if (t.out.closed) return false;
      const [out, bytes] = frame(text, false);
      return bytes === 0 || t.out.write(out, bytes);
    },
    drained: () => t.out.drained(),
    end: (text) => {
      const [out, bytes] = frame(text ?? "", true);
      if (bytes) t.out.write(out, bytes);
    },
    fail: () => t.cut(),
  });
  t.gone = undefined;
}

/** Any other stream, chunk by chunk with backpressure; the client leaving cancels it (and so its source). */
async function pipe(t: Target, body: ReadableStream<Uint8Array>, start: string | Buffer, chunked: boolean) {
  const reader = body.getReader();
  t.gone = () => void reader.cancel().catch(() => {});
  t.out.write(start);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (t.out.closed) return;
      if (done) break;
      if (!value.byteLength) continue;
      const ok = chunked ? t.out.write(Buffer.concat([Buffer.from(`${value.byteLength.toString(16)}\r\n`), value, CRLF])) : t.out.write(value);
      if (!ok) await t.out.drained();
    }
    if (chunked) t.out.write("0\r\n\r\n");
  } catch {
    t.cut();
  } finally {
    t.gone = undefined;
  }
}

function cancel(body: ReadableStream<Uint8Array>) {
  const writer = directWriter(body);
  if (writer) void writer.cancel();
  else void body.cancel().catch(() => {});
}

/** Header values are byte strings: one past ASCII must go out as that byte, not as UTF-8. */
function latin1(head: string): string | Buffer {
  return NON_ASCII.test(head) ? Buffer.from(head, "latin1") : head;
}

let dateSecond = 0;
let dateText = "";
function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

const CRLF = Buffer.from("\r\n");
const NON_ASCII = /[^\x00-\x7f]/;
const TEXT = /json|^text\//i;
const OTHER_CHARSET = /charset=(?!"?utf-?8)/i;

export const REASONS: Record<number, string> = {
  100: "Continue", 101: "Switching Protocols", 200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 206: "Partial Content",
  301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified", 307: "Temporary Redirect", 308: "Permanent Redirect",
  400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
  408: "Request Timeout", 409: "Conflict", 410: "Gone", 411: "Length Required", 413: "Payload Too Large", 415: "Unsupported Media Type",
  417: "Expectation Failed", 422: "Unprocessable Entity", 429: "Too Many Requests", 431: "Request Header Fields Too Large",
  500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
  505: "HTTP Version Not Supported", 529: "Overloaded",
};
