/**
 * Several hosts behind one provider (`urls = [...]`): pick the least-busy host whose circuit
 * is closed; a host that fails `maxFails` times in a row is cooled down (circuit open) and
 * offered again after the cooldown (half-open: one trial request); a success closes it.
 * Pure bookkeeping — the clock is passed in so tests need no sleeping.
 */

export interface HostState {
  url: string;
  inFlight: number;
  consecutiveFails: number;
  openUntil: number;
  /** A half-open host lets one trial request through at a time. */
  trial: boolean;
}

export class HostPool {
  readonly hosts: HostState[];

  constructor(
    urls: string[],
    private readonly maxFails = 3,
    private readonly cooldownMs = 30_000,
  ) {
    this.hosts = urls.map((url) => ({ url, inFlight: 0, consecutiveFails: 0, openUntil: 0, trial: false }));
  }

  /**
   * Hosts to try, in order: a half-open host first (its one trial request — if it fails, the
   * request simply moves on to the next host), then closed ones by load. Open hosts never.
   */
  candidates(now = Date.now()): HostState[] {
    const closed = this.hosts.filter((h) => h.openUntil === 0);
    const halfOpen = this.hosts.filter((h) => h.openUntil !== 0 && h.openUntil <= now && !h.trial);
    // Stable sort: among equally busy hosts the configured order wins.
    return [...halfOpen, ...closed.sort((a, b) => a.inFlight - b.inFlight)];
  }

  /** Mark a request starting on `host`; returns the function that records how it ended. */
  begin(host: HostState, now = Date.now()): (ok: boolean, at?: number) => void {
    host.inFlight++;
    if (host.openUntil !== 0 && host.openUntil <= now) host.trial = true;
    let done = false;
    return (ok, at = Date.now()) => {
      if (done) return;
      done = true;
      host.inFlight--;
      host.trial = false;
      if (ok) {
        host.consecutiveFails = 0;
        host.openUntil = 0;
        return;
      }
      host.consecutiveFails++;
      // A lone host is never cooled down: there is nothing to shift its load to, and the
      // supervisor's probes already tell the router when it is down.
      if (this.hosts.length < 2) return;
      // A failed trial re-opens at once; a closed host opens after maxFails in a row.
      if (host.openUntil !== 0 || host.consecutiveFails >= this.maxFails) host.openUntil = at + this.cooldownMs;
    };
  }

  state(host: HostState, now = Date.now()): "up" | "cooldown" | "half-open" {
    if (host.openUntil === 0) return "up";
    return host.openUntil > now ? "cooldown" : "half-open";
  }
}
