/**
 * Give back what a burst of requests left behind once the daemon has gone quiet.
 *
 * A translated 48 KB conversation leaves megabytes in the allocator and compiled code for
 * paths that may not run again for an hour; a load burst leaves tens of megabytes. A full GC
 * alone returns little of it (the allocator keeps its pages, the code stays). `Bun.shrink()`
 * drops compiled code and lets JavaScriptCore and mimalloc hand their free pages back: after a
 * load burst RSS fell 114 -> 67 MB (BENCHMARKS.md, "Issue 20: resting weight").
 *
 * Once per quiet spell after answered requests: nothing in flight and nothing answered for
 * `quietMs`. Health and status polls do not count as requests here, so they never cause one;
 * under load it never runs (code dropped mid-load would have to be compiled again at once).
 * 30 s: longer than any pause inside a burst of work (a benchmark that takes turns between
 * servers leaves each quiet for up to ~10 s, and would otherwise measure cold code). The price
 * is paid once per quiet spell: the next translated request runs its code cold (+20-40 ms for
 * a 48 KB conversation, far below a model's own latency).
 */

export interface IdleReleaseOptions {
  /** Requests being answered right now. */
  inFlight(): number;
  /** How long without an answered request counts as quiet (default 30 s). */
  quietMs?: number;
  /** How often to look (default 5 s). */
  checkMs?: number;
  /** What giving back means (the daemon: forget the tokenizer's tables, Bun.shrink, full GC). */
  release: () => void;
}

export interface IdleRelease {
  /** A request was answered. */
  touch(): void;
  /** One look now (the timer calls it); true when it released. */
  check(now?: number): boolean;
  stop(): void;
}

export function releaseWhenIdle(opts: IdleReleaseOptions): IdleRelease {
  const quietMs = opts.quietMs ?? 30_000;
  let lastAnswer = 0;
  let dirty = false;

  const check = (now = Date.now()) => {
    if (!dirty || opts.inFlight() > 0 || now - lastAnswer < quietMs) return false;
    dirty = false;
    opts.release();
    return true;
  };
  const timer = setInterval(check, opts.checkMs ?? 5000);
  timer.unref();
  return {
    touch: () => {
      lastAnswer = Date.now();
      dirty = true;
    },
    check,
    stop: () => clearInterval(timer),
  };
}
