/**
 * A small HTTP/1.1 load client over raw keep-alive sockets that records, per request, the time
 * to the first response byte and to the end of the response. wrk measures requests/s better
 * (it is C); this one exists because wrk cannot see the first byte of a stream.
 */
export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  /** Sorted, milliseconds. */
  ttfb: number[];
  total: number[];
}

export interface LoadOptions {
  port: number;
  path: string;
  body: string;
  headers?: Record<string, string>;
  connections: number;
  /** Stop after this long, or after `requests` requests, whichever is first. */
  durationMs: number;
  requests?: number;
}

/** Incremental HTTP/1.1 response framing: content-length or chunked. */
class ResponseReader {
  private buf = "";
  private bodyStart = -1;
  private length = -1;
  private chunked = false;
  private pos = 0;
  status = 0;

  /** Feed latin1 text; returns true once the response is complete. */
  feed(s: string): boolean {
    this.buf += s;
    if (this.bodyStart < 0) {
      const end = this.buf.indexOf("\r\n\r\n");
      if (end < 0) return false;
      const head = this.buf.slice(0, end).toLowerCase();
      this.status = Number(head.slice(9, 12));
      const cl = /\r\ncontent-length:\s*(\d+)/.exec(head);
      this.chunked = /\r\ntransfer-encoding:\s*chunked/.test(head);
      this.length = cl ? Number(cl[1]) : -1;
      this.bodyStart = end + 4;
      this.pos = this.bodyStart;
    }
    if (!this.chunked) return this.buf.length - this.bodyStart >= Math.max(0, this.length);
    for (;;) {
      const eol = this.buf.indexOf("\r\n", this.pos);
      if (eol < 0) return false;
      const size = parseInt(this.buf.slice(this.pos, eol), 16);
      if (size === 0) return this.buf.length >= eol + 4;
      if (this.buf.length < eol + 2 + size + 2) return false;
      this.pos = eol + 2 + size + 2;
      // Drop what is consumed so long streams stay linear.
      if (this.pos > 65536) {
        this.buf = this.buf.slice(this.pos);
        this.pos = 0;
      }
    }
  }
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const head =
    `POST ${opts.path} HTTP/1.1\r\nhost: 127.0.0.1:${opts.port}\r\ncontent-type: application/json\r\n` +
    Object.entries(opts.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join("") +
    `content-length: ${Buffer.byteLength(opts.body)}\r\n\r\n`;
  const request = Buffer.from(head + opts.body);
  const ttfb: number[] = [];
  const total: number[] = [];
  let errors = 0;
  let issued = 0;
  const limit = opts.requests ?? Infinity;
  const started = performance.now();
  const deadline = started + opts.durationMs;
  const dec = new TextDecoder("latin1");

  const one = () =>
    new Promise<void>((resolveConn) => {
      let reader = new ResponseReader();
      let t0 = 0;
      let first = 0;
      const next = (socket: { write(b: Uint8Array): number; end(): void }) => {
        if (performance.now() >= deadline || issued >= limit) {
          socket.end();
          resolveConn();
          return;
        }
        issued++;
        reader = new ResponseReader();
        first = 0;
        t0 = performance.now();
        socket.write(request);
      };
      Bun.connect({
        hostname: "127.0.0.1",
        port: opts.port,
        socket: {
          open: (socket) => next(socket),
          data(socket, data) {
            const now = performance.now();
            if (!first) first = now;
            if (reader.feed(dec.decode(data))) {
              if (reader.status >= 200 && reader.status < 300) {
                ttfb.push(first - t0);
                total.push(performance.now() - t0);
              } else errors++;
              next(socket);
            }
          },
          close: () => resolveConn(),
          error: () => {
            errors++;
            resolveConn();
          },
          connectError: () => {
            errors++;
            resolveConn();
          },
        },
      }).catch(() => {
        errors++;
        resolveConn();
      });
    });

  await Promise.all(Array.from({ length: opts.connections }, one));
  const seconds = (performance.now() - started) / 1000;
  ttfb.sort((a, b) => a - b);
  total.sort((a, b) => a - b);
  return { requests: total.length, errors, seconds, ttfb, total };
}

export function pct(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
