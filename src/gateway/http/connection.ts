/**
 * One client connection: http-parser-js reads requests off the socket as bytes arrive (ahead of
 * the answers: pipelined requests queue up, with their bodies), and they are answered one at a
 * time, in order. What the parser refuses is answered in turn, in the server's envelope, and the
 * connection then closes. The idle limit: the head of a request must arrive within it of the
 * connection falling idle (a trickle of header bytes does not extend it); a body may take longer
 * while bytes keep coming; while a request is answered there is none, except for a client that
 * stops reading (unless the answer lifted it: `relax`).
 */
import type { Socket } from "bun";
import { HTTPParser } from "http-parser-js";
import { Exchange, GONE } from "./exchange.ts";
import { Out } from "./out.ts";
import { writeResponse, type Target } from "./respond.ts";


/** What a connection asks of the server it belongs to. */
export interface Host {
  answer(ex: Exchange): Promise<Response | undefined>;
  /** The answer to an answer that threw. */
  failed(err: unknown): Response;
  /** A request the HTTP layer refuses, in the server's envelope. */
  refusal(status: number, message: string): Response;
  requestId(): string;
  idleMs(): number;
  maxBodyBytes(): number;
  readonly stopping: boolean;
  begin(): void;
  finish(): void;
  closed(conn: Connection): void;
}

// Header bytes past ASCII are kept as they came, one char per byte (as node:http gives them);
// the parser's default, "ascii", drops their high bit.
HTTPParser.encoding = "latin1";

const MAX_HEAD = 16 * 1024;
/** Past this many requests waiting behind the one answered, the socket is not read until they are. */
const MAX_QUEUED = 16;
const STOP = Symbol("stop parsing");
const HEAD_STATES = new Set(["REQUEST_LINE", "HEADER"]);

/** A request the parser refused: answered in its turn, then the connection closes. */
class Refusal implements Target {
  readonly head = false;
  readonly keepAlive = false;
  readonly http10 = false;
  constructor(
    readonly out: Out,
    readonly status: number,
    readonly message: string,
    readonly cut: () => void,
  ) {}
}

export class Connection {
  readonly out: Out;
  private readonly parser: any = new HTTPParser(HTTPParser.REQUEST);
  private readonly queue: Array<Exchange | Refusal> = [];
  private receiving?: Exchange;
  private awaiting?: Exchange;
  private answering = false;
  private pumping = false;
  private accepting = true;
  private dead = false;
  private closed = false;
  private paused = false;
  private headStart = 0;
  private headBytes = 0;
  private relaxed = 0;
  readDeadline: number;
  writeDeadline = 0;

  constructor(
    private readonly socket: Socket<Connection>,
    private readonly host: Host,
  ) {
    this.out = new Out(socket as Socket<unknown>, (blocked) => {
      this.writeDeadline = blocked && this.relaxed === 0 ? Date.now() + host.idleMs() : 0;
    });
    // Its own count of header bytes counts every byte of a read that ends between messages —
    // a body over 80 KB arriving in one read was refused as oversized headers — so the head is
    // measured here instead, from where each message starts. An accessor: the parser resets its
    // limit after every message.
    Object.defineProperty(this.parser, "maxHeaderSize", { get: () => Infinity, set: () => {} });
    this.parser[HTTPParser.kOnHeadersComplete] = (info: any) => this.headers(info);
    this.parser[HTTPParser.kOnBody] = (b: Buffer, o: number, n: number) => this.receiving?.chunk(o === 0 && n === b.byteLength ? b : b.subarray(o, o + n));
    this.parser[HTTPParser.kOnMessageComplete] = () => this.messageDone();
    this.readDeadline = Date.now() + host.idleMs();
  }

  get isClosed() {
    return this.closed;
  }

  /** Nothing being answered, nothing waiting to be. */
  get idle() {
    return !this.pumping && this.queue.length === 0;
  }

  data(chunk: Buffer) {
    if (this.dead) return;
    if (this.receiving && (!this.answering || this.awaiting)) this.readDeadline = Date.now() + this.host.idleMs();
    this.headStart = 0;
    let r: number | Error;
    try {
      r = this.parser.execute(chunk);
    } catch (err) {
      if (err !== STOP) this.refuse(400, malformed(err as Error));
      return;
    }
    if (r instanceof Error) return this.refuse(400, malformed(r));
    if (HEAD_STATES.has(this.parser.state)) {
      this.headBytes += chunk.byteLength - this.headStart;
      if (this.headBytes > MAX_HEAD) return this.refuse(431, TOO_BIG_HEAD);
    }
    if (this.queue.length > MAX_QUEUED && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    if (!this.pumping && this.queue.length) void this.pump();
  }

  awaitBody(ex: Exchange) {
    this.awaiting = ex;
    this.readDeadline = Date.now() + this.host.idleMs();
  }

  relax() {
    this.relaxed++;
    this.writeDeadline = 0;
  }

  restore() {
    this.relaxed = Math.max(0, this.relaxed - 1);
    if (this.relaxed === 0 && this.out.waiting) this.writeDeadline = Date.now() + this.host.idleMs();
  }

  /** The sweeper's call: past a deadline the connection is cut. */
  expire(now: number) {
    if ((this.readDeadline && now >= this.readDeadline) || (this.writeDeadline && now >= this.writeDeadline)) this.destroy(true);
  }

  /** Close once what is written is out (an idle connection, the server stopping). */
  close() {
    this.accepting = false;
    this.dead = true;
    this.readDeadline = Date.now() + this.host.idleMs();
    this.out.end();
  }

  /** Cut now: requests in progress see the client gone. `reset`: no lingering for the peer's FIN. */
  destroy(reset = false) {
    this.gone();
    if (reset) this.socket.terminate();
    else this.socket.end();
  }

  /** The socket closed (or is being cut). */
  gone() {
    if (this.closed) return;
    this.closed = this.dead = true;
    this.out.gone();
    const first = this.queue[0];
    if (first instanceof Exchange) this.uncount(first);
    for (const item of this.queue) if (item instanceof Exchange) item.left();
    this.receiving?.left();
    this.host.closed(this);
  }

  private headers(info: any): number {
    const size = this.headBytes + (this.parser.offset - this.headStart);
    this.headBytes = 0;
    if (!this.accepting) {
      this.dead = true;
      throw STOP;
    }
    if (size > MAX_HEAD) this.refuseNow(431, TOO_BIG_HEAD);
    if (info.versionMajor !== 1 || info.versionMinor > 1) this.refuseNow(505, "unsupported HTTP version: atrad speaks HTTP/1.1");
    const method: string = HTTPParser.methods[info.method]!;
    if (method === "CONNECT") this.refuseNow(405, "atrad is not a proxy: CONNECT is not supported; send POST /v1/messages");
    const raw: string[] = info.headers;
    let host: string | undefined;
    let length: string | undefined;
    let te: string | undefined;
    let expect = false;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.length < 4 || name.length > 17) continue;
      const k = name.toLowerCase();
      if (k === "host") host ??= raw[i + 1];
      else if (k === "content-length") length = raw[i + 1]!.trim();
      else if (k === "transfer-encoding") te = raw[i + 1]!.trim().toLowerCase();
      else if (k === "expect") expect = raw[i + 1]!.trim().toLowerCase() === "100-continue";
    }
    // Framing two ways at once, or one this parser would not honour, is how requests get smuggled.
    if (length !== undefined && !/^\d+$/.test(length)) this.refuseNow(400, malformed({ message: "invalid Content-Length" }));
    if (te !== undefined && (te !== "chunked" || length !== undefined)) this.refuseNow(400, malformed({ message: "unsupported Transfer-Encoding (only chunked, and not with Content-Length)" }));
    const http10 = info.versionMinor === 0;
    const keepAlive = info.shouldKeepAlive && !info.upgrade && !this.host.stopping;
    const ex = new Exchange(this, method, info.url, http10, raw, host, length === undefined ? undefined : Number(length), expect && !http10, keepAlive, this.host.maxBodyBytes());
    // No request after one that closes the connection is read.
    if (!keepAlive) this.accepting = false;
    this.queue.push(ex);
    this.receiving = ex;
    if (!this.answering && (te !== undefined || Number(length) > 0)) this.readDeadline = Date.now() + this.host.idleMs();
    return 0;
  }

  private messageDone() {
    this.headStart = this.parser.offset;
    const ex = this.receiving;
    if (!ex) return;
    this.receiving = undefined;
    if (this.awaiting === ex) {
      this.awaiting = undefined;
      if (this.answering) this.readDeadline = 0;
    }
    ex.done();
  }

  private refuse(status: number, message: string) {
    if (this.dead) return;
    this.dead = true;
    this.accepting = false;
    const r = this.receiving;
    this.receiving = undefined;
    r?.settle(GONE);
    r?.onComplete?.();
    this.queue.push(new Refusal(this.out, status, message, () => this.destroy()));
    if (!this.pumping) void this.pump();
  }

  private refuseNow(status: number, message: string): never {
    this.refuse(status, message);
    throw STOP;
  }

  /** Answer what is queued, one at a time, in order. */
  private async pump() {
    this.pumping = true;
    while (!this.closed) {
      const item = this.queue[0];
      if (!item) break;
      this.answering = true;
      if (this.awaiting !== item) this.readDeadline = 0;
      if (item instanceof Refusal) {
        await this.write(item, this.host.refusal(item.status, item.message));
        this.out.end();
        break;
      }
      this.host.begin();
      item.counted = true;
      let response: Response | undefined;
      try {
        response = await this.host.answer(item);
      } catch (err) {
        response = this.host.failed(err);
      }
      if (this.host.stopping) item.keepAlive = false;
      if (response) await this.write(item, response);
      item.answered = true;
      this.uncount(item);
      this.queue.shift();
      this.answering = false;
      if (!item.keepAlive) {
        await this.finish(item);
        break;
      }
      if (this.paused && this.queue.length <= MAX_QUEUED / 2) {
        this.paused = false;
        this.socket.resume();
      }
    }
    this.pumping = false;
    if (!this.closed && !this.queue.length && !this.answering) this.readDeadline = Date.now() + this.host.idleMs();
  }

  private async write(t: Target, response: Response) {
    if (this.closed) return void response.body?.cancel().catch(() => {});
    try {
      await writeResponse(t, response, this.host.requestId);
    } catch (err) {
      if (t.started || this.closed) return this.destroy();
      await writeResponse(t, this.host.failed(err), this.host.requestId).catch(() => this.destroy());
    }
  }

  /** The last answer on this connection: the rest of its body is read and dropped (so the client sees the answer), then the close. */
  private async finish(ex: Exchange) {
    this.accepting = false;
    if (!ex.complete && !this.closed && !(ex.expectContinue && !ex.continued)) {
      this.awaitBody(ex);
      await new Promise<void>((resolve) => (ex.onComplete = resolve));
    }
    this.out.end();
    this.readDeadline = Date.now() + this.host.idleMs();
  }

  private uncount(ex: Exchange) {
    if (!ex.counted) return;
    ex.counted = false;
    this.host.finish();
  }
}

const TOO_BIG_HEAD = "request headers are too large: keep them under 16 KB";

function malformed(err: { message: string; code?: string }): string {
  return `malformed HTTP request (${err.code ?? err.message}): send an HTTP/1.1 request such as POST /v1/messages`;
}
