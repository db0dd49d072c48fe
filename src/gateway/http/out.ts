/**
 * What a connection writes, with backpressure. Bun's `socket.write` is unbuffered: it hands the
 * kernel what fits and returns how many bytes that was. The rest is kept here, in order, and
 * flushed from the socket's `drain`; until then `write` says false and `drained()` waits, so a
 * client that stops reading holds back the writer instead of growing memory without bound.
 */
import type { Socket } from "bun";

export class Out {
  private pending: Uint8Array[] | undefined;
  private waiters: Array<() => void> = [];
  private closing = false;
  closed = false;

  /** `blocked(true)` when bytes are kept for the drain, `blocked(false)` when they are all out. */
  constructor(
    private readonly socket: Socket<unknown>,
    private readonly blocked: (yes: boolean) => void,
  ) {}

  get waiting(): boolean {
    return this.pending !== undefined;
  }

  /** Hand bytes to the socket; false when some are kept for the drain. `bytes`: the string's UTF-8 length, when known. */
  write(data: string | Uint8Array, bytes?: number): boolean {
    if (this.closed || this.closing) return false;
    if (this.pending) {
      this.pending.push(typeof data === "string" ? Buffer.from(data) : data);
      return false;
    }
    const n = this.socket.write(data);
    const size = typeof data === "string" ? (bytes ?? Buffer.byteLength(data)) : data.byteLength;
    if (n === size) return true;
    if (n < 0) return false;
    this.pending = [(typeof data === "string" ? Buffer.from(data) : data).subarray(n)];
    this.blocked(true);
    return false;
  }

  /** The socket's `drain`: write what was kept, as far as the kernel takes it. */
  flush() {
    const p = this.pending;
    if (!p || this.closed) return;
    const head = p.length === 1 ? p[0]! : Buffer.concat(p);
    const n = this.socket.write(head);
    if (n >= 0 && n < head.byteLength) {
      this.pending = [head.subarray(n)];
      this.blocked(true);
      return;
    }
    this.pending = undefined;
    this.blocked(false);
    this.release();
    if (this.closing) this.socket.end();
  }

  /** Resolves once every kept byte is out, or the socket is gone. */
  drained(): Promise<void> {
    if (!this.pending || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** End the connection once every byte written so far is out. */
  end() {
    if (this.closing || this.closed) return;
    this.closing = true;
    if (!this.pending) this.socket.end();
  }

  /** The socket is gone: nothing kept is sent, nobody waits any more. */
  gone() {
    this.closed = true;
    this.pending = undefined;
    this.release();
  }

  private release() {
    if (!this.waiters.length) return;
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
