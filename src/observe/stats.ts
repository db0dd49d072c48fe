/**
 * Recent traffic in memory: the last requests (for the status page) and, per provider, the
 * last hour's requests, errors and latency percentiles (for `atrad status`). Memory and the
 * cost of a status call are bounded whatever the traffic: counts per minute, latencies sampled,
 * and the kept records capped in bytes as well as in number (clients choose their session ids).
 */
import type { RequestRecord } from "../gateway/record.ts";

const HOUR = 3_600_000;

export interface ProviderStats {
  requests_1h: number;
  errors_1h: number;
  p50_ms: number | null;
  p95_ms: number | null;
  ttft_p50_ms: number | null;
}

/** Latencies kept per provider for percentiles: a bounded sample, so status stays O(1) in traffic. */
const SAMPLE = 2048;
/** Byte budgets of the kept records: the status page's list, and the last record per session. */
const LAST_BYTES = 256 * 1024;
const SESSION_BYTES = 2 * 1024 * 1024;
const MAX_SESSIONS = 1000;

/** About what a record costs in memory: its strings (UTF-16) plus the fixed fields. */
export function recordBytes(r: RequestRecord): number {
  let n = 160 + 2 * (r.time.length + r.request_id.length + (r.session_id?.length ?? 0) + r.model.length);
  n += 2 * ((r.target?.length ?? 0) + (r.provider?.length ?? 0) + (r.stop_reason?.length ?? 0) + (r.error_type?.length ?? 0));
  for (const f of r.fallbacks) n += 32 + 2 * (f.target.length + f.reason.length);
  return n;
}

interface ProviderWindow {
  /** Per-minute counts for the last hour, indexed by minute % 60. */
  minutes: Array<{ minute: number; requests: number; errors: number }>;
  /** The most recent latencies (ring buffer), with their time. */
  samples: Array<{ at: number; ms: number; ttft: number | null }>;
  next: number;
}

export class RecentRequests {
  private readonly last: RequestRecord[] = [];
  /** recordBytes of each of `last`, so an eviction does not measure the record again. */
  private readonly lastSizes: number[] = [];
  private lastBytes = 0;
  /** The last request of each Claude Code session (for `atrad statusline`), oldest evicted first. */
  private readonly sessions = new Map<string, { record: RequestRecord; bytes: number }>();
  private sessionBytes = 0;
  private readonly byProvider = new Map<string, ProviderWindow>();
  /** The status page polls every 2 s and status may be asked often: a second-old answer is fine. */
  private readonly cached = new Map<string, { at: number; stats: ProviderStats }>();

  constructor(private readonly keepLast = 50) {}

  add(r: RequestRecord, now = Date.now()) {
    const bytes = recordBytes(r);
    this.last.push(r);
    this.lastSizes.push(bytes);
    this.lastBytes += bytes;
    while (this.last.length > 1 && (this.last.length > this.keepLast || this.lastBytes > LAST_BYTES)) {
      this.last.shift();
      this.lastBytes -= this.lastSizes.shift()!;
    }
    if (r.session_id) {
      const old = this.sessions.get(r.session_id);
      if (old) {
        this.sessions.delete(r.session_id);
        this.sessionBytes -= old.bytes;
      }
      this.sessions.set(r.session_id, { record: r, bytes });
      this.sessionBytes += bytes;
      while (this.sessions.size > 1 && (this.sessions.size > MAX_SESSIONS || this.sessionBytes > SESSION_BYTES)) {
        const [id, oldest] = this.sessions.entries().next().value!;
        this.sessions.delete(id);
        this.sessionBytes -= oldest.bytes;
      }
    }
    const key = r.provider ?? "(none)";
    let w = this.byProvider.get(key);
    if (!w) this.byProvider.set(key, (w = { minutes: [], samples: [], next: 0 }));
    const minute = Math.floor(now / 60_000);
    const slot = w.minutes[minute % 60];
    const bucket = slot && slot.minute === minute ? slot : (w.minutes[minute % 60] = { minute, requests: 0, errors: 0 });
    bucket.requests++;
    if (r.status >= 400 || r.error_type !== null) bucket.errors++;
    const sample = { at: now, ms: r.total_ms, ttft: r.ttft_ms };
    if (w.samples.length < SAMPLE) w.samples.push(sample);
    else w.samples[w.next] = sample;
    w.next = (w.next + 1) % SAMPLE;
  }

  lastOfSession(id: string): RequestRecord | undefined {
    return this.sessions.get(id)?.record;
  }

  /** What the kept records cost, as recordBytes counts it. */
  get keptBytes(): { last: number; sessions: number } {
    return { last: this.lastBytes, sessions: this.sessionBytes };
  }

  recent(): RequestRecord[] {
    return [...this.last].reverse();
  }

  stats(provider: string, now = Date.now()): ProviderStats {
    const hit = this.cached.get(provider);
    if (hit && now >= hit.at && now - hit.at < 1000) return hit.stats;
    const stats = this.compute(provider, now);
    this.cached.set(provider, { at: now, stats });
    return stats;
  }

  private compute(provider: string, now: number): ProviderStats {
    const w = this.byProvider.get(provider);
    const nowMinute = Math.floor(now / 60_000);
    let requests = 0;
    let errors = 0;
    for (const b of w?.minutes ?? []) {
      if (b && nowMinute - b.minute < 60) {
        requests += b.requests;
        errors += b.errors;
      }
    }
    const recent = (w?.samples ?? []).filter((x) => now - x.at <= HOUR);
    const ms = recent.map((x) => x.ms).sort((a, b) => a - b);
    const ttft = recent.map((x) => x.ttft).filter((x): x is number => x !== null).sort((a, b) => a - b);
    return {
      requests_1h: requests,
      errors_1h: errors,
      p50_ms: percentile(ms, 0.5),
      p95_ms: percentile(ms, 0.95),
      ttft_p50_ms: percentile(ttft, 0.5),
    };
  }

  /** Latency of the last `n` requests of a provider, oldest first (for sparklines). */
  series(provider: string, n = 30): number[] {
    const w = this.byProvider.get(provider);
    if (!w) return [];
    const ordered = w.samples.length < SAMPLE ? w.samples : [...w.samples.slice(w.next), ...w.samples.slice(0, w.next)];
    return ordered.slice(-n).map((x) => x.ms);
  }
}

/** Nearest-rank percentile of a sorted list. */
export function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
