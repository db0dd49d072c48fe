/**
 * One request as the connection read it: method, target, headers, and its body as it arrives
 * (parsed ahead of its answer, bounded by the body limit), and its answer's place on the
 * connection (a `Target` for the response writer).
 */
import type { Connection } from "./connection.ts";
import type { Out } from "./out.ts";
import type { Target } from "./respond.ts";

export const TOO_LARGE = Symbol("too large");
export const GONE = Symbol("client gone");
export type Body = Buffer | undefined | typeof TOO_LARGE | typeof GONE;

const CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n";

/** One request as read off the wire, and its answer's place on the connection. */
export class Exchange implements Target {
  readonly head: boolean;
  readonly out: Out;
  gone?: () => void;
  started?: boolean;
  complete = false;
  tooLarge = false;
  continued = false;
  answered = false;
  counted = false;
  chunks: Buffer[] = [];
  size = 0;
  onComplete?: () => void;
  private controller?: AbortController;
  private wake?: (body: Body) => void;

  constructor(
    readonly conn: Connection,
    readonly method: string,
    readonly target: string,
    readonly http10: boolean,
    /** Flat: name, value, name, value… as sent. */
    readonly rawHeaders: string[],
    readonly host: string | undefined,
    readonly contentLength: number | undefined,
    readonly expectContinue: boolean,
    public keepAlive: boolean,
    readonly max: number,
  ) {
    this.head = method === "HEAD";
    this.out = conn.out;
  }

  /** Aborted when the client leaves before the answer is complete. */
  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }

  /** The whole body, once in: TOO_LARGE as soon as it passes `max`, GONE if the client left. */
  body(): Body | Promise<Body> {
    if (this.tooLarge) return TOO_LARGE;
    if (this.complete) return this.joined();
    if (this.conn.isClosed) return GONE;
    // The client waits for this before sending a large body (curl, past 1 MB).
    if (this.expectContinue && !this.continued) {
      this.continued = true;
      this.out.write(CONTINUE);
    }
    this.conn.awaitBody(this);
    return new Promise((resolve) => (this.wake = resolve));
  }

  /** The body is refused: the connection closes after the answer (once the body is read and dropped). */
  refuseBody() {
    this.keepAlive = false;
  }

  cut() {
    this.conn.destroy();
  }

  chunk(b: Buffer) {
    if (this.tooLarge) return;
    this.size += b.byteLength;
    if (this.size > this.max) {
      this.tooLarge = true;
      this.chunks = [];
      this.settle(TOO_LARGE);
      return;
    }
    this.chunks.push(b);
  }

  done() {
    this.complete = true;
    if (!this.tooLarge) this.settle(this.joined());
    this.onComplete?.();
  }

  left() {
    if (!this.answered) this.controller?.abort();
    this.gone?.();
    this.settle(GONE);
    this.onComplete?.();
  }

  settle(body: Body) {
    const wake = this.wake;
    this.wake = undefined;
    wake?.(body);
  }

  private joined(): Buffer | undefined {
    const c = this.chunks;
    return this.size === 0 ? undefined : c.length === 1 ? c[0]! : Buffer.concat(c);
  }
}
