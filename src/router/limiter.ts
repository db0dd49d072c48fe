/**
 * A FIFO slot limiter per provider (`max_concurrency`): the old proxy serialised everything
 * behind one global lock; atrad limits each provider on its own and queues the excess in
 * arrival order. A waiter gives up after the queue timeout or when its client leaves.
 */
import { AtradError } from "../anthropic/errors.ts";

export class Limiter {
  private active = 0;
  private readonly waiting: Array<{ grant: () => void }> = [];

  constructor(
    readonly name: string,
    readonly max: number,
    private readonly queueTimeoutMs: number,
  ) {}

  get inFlight() {
    return this.active;
  }
  get queued() {
    return this.waiting.length;
  }

  /** Resolves with a release function once a slot is free. */
  async acquire(signal: AbortSignal): Promise<() => void> {
    if (this.max <= 0 || (this.active < this.max && this.waiting.length === 0)) {
      this.active++;
      return this.releaser();
    }
    return new Promise((resolve, reject) => {
      const entry = {
        grant: () => {
          cleanup();
          this.active++;
          resolve(this.releaser());
        },
      };
      const drop = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
      };
      const timer = setTimeout(() => {
        drop();
        cleanup();
        const seconds = Math.max(1, Math.ceil(this.queueTimeoutMs / 1000));
        reject(
          new AtradError("overloaded_error", `${this.name} is busy: waited ${seconds}s for one of ${this.max} slots`, {
            headers: { "retry-after": String(seconds) },
          }),
        );
      }, this.queueTimeoutMs);
      const onAbort = () => {
        drop();
        cleanup();
        reject(signal.reason ?? new DOMException("aborted", "AbortError"));
      };
      const cleanup = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.active--;
      this.waiting.shift()?.grant();
    };
  }
}
