/**
 * Several hosts behind one provider (`urls = [...]`): pick the least-busy host whose circuit
 * is closed; a host that fails `maxFails` times in a row is cooled down (circuit open) and
 * offered again after the cooldown (half-open: one trial request); a success closes it.
 * Pure bookkeeping — the clock is passed in so tests need no sleeping.
 *
 * Session affinity: a local server keeps a conversation's prompt in its KV cache, so the
 * requests of one session (and one agent within it) go back to the host that served it last,
 * while it is usable; a new session takes the least-busy host, then the one fewest sessions
 * stick to. The remembered sessions are bounded (oldest forgotten first).
 */

/** Sessions remembered per pool. */
const MAX_AFFINITY = 2048;

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
  /** Affinity key → the url that served it last (insertion order = least recently used first). */
  private readonly affinity = new Map<string, string>();

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
  candidates(now = Date.now(), key?: string): HostState[] {
    const closed = this.hosts.filter((h) => h.openUntil === 0);
    const halfOpen = this.hosts.filter((h) => h.openUntil !== 0 && h.openUntil <= now && !h.trial);
    const pinned = key !== undefined ? this.affinity.get(key) : undefined;
    const sticky = key !== undefined ? this.stickyCounts() : undefined;
    // Stable sort: among equally busy hosts (and equally many sessions) the configured order wins.
    const list = [...halfOpen, ...closed.sort((a, b) => a.inFlight - b.inFlight || (sticky ? (sticky.get(a.url) ?? 0) - (sticky.get(b.url) ?? 0) : 0))];
    const i = pinned === undefined ? -1 : list.findIndex((h) => h.url === pinned);
    if (i > 0) list.unshift(...list.splice(i, 1));
    return list;
  }

  /** `key`'s requests go to `host` from now on (called when it served one). */
  stick(key: string, host: HostState) {
    if (this.hosts.length < 2) return;
    this.affinity.delete(key);
    this.affinity.set(key, host.url);
    if (this.affinity.size > MAX_AFFINITY) this.affinity.delete(this.affinity.keys().next().value!);
  }

  private stickyCounts(): Map<string, number> {
    const n = new Map<string, number>();
    for (const url of this.affinity.values()) n.set(url, (n.get(url) ?? 0) + 1);
    return n;
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
