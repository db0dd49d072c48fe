/**
 * Recent traffic in memory: the last requests (for the status page) and, per provider, the
 * last hour's requests, errors and latency percentiles (for `atrad status`).
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

export class RecentRequests {
  private readonly last: RequestRecord[] = [];
  /** The last request of each Claude Code session (for `atrad statusline`), oldest evicted first. */
  private readonly sessions = new Map<string, RequestRecord>();
  private readonly byProvider = new Map<string, Array<{ at: number; ms: number; ttft: number | null; error: boolean }>>();

  constructor(private readonly keepLast = 50) {}

  add(r: RequestRecord, now = Date.now()) {
    this.last.push(r);
    if (this.last.length > this.keepLast) this.last.shift();
    if (r.session_id) {
      this.sessions.delete(r.session_id);
      this.sessions.set(r.session_id, r);
      if (this.sessions.size > 1000) this.sessions.delete(this.sessions.keys().next().value!);
    }
    const key = r.provider ?? "(none)";
    const list = this.byProvider.get(key) ?? [];
    list.push({ at: now, ms: r.total_ms, ttft: r.ttft_ms, error: r.status >= 400 || r.error_type !== null });
    this.byProvider.set(key, list);
    this.prune(list, now);
  }

  lastOfSession(id: string): RequestRecord | undefined {
    return this.sessions.get(id);
  }

  recent(): RequestRecord[] {
    return [...this.last].reverse();
  }

  stats(provider: string, now = Date.now()): ProviderStats {
    const list = this.byProvider.get(provider) ?? [];
    this.prune(list, now);
    const ms = list.map((x) => x.ms).sort((a, b) => a - b);
    const ttft = list.map((x) => x.ttft).filter((x): x is number => x !== null).sort((a, b) => a - b);
    return {
      requests_1h: list.length,
      errors_1h: list.filter((x) => x.error).length,
      p50_ms: percentile(ms, 0.5),
      p95_ms: percentile(ms, 0.95),
      ttft_p50_ms: percentile(ttft, 0.5),
    };
  }

  /** Latency of the last `n` requests of a provider, oldest first (for sparklines). */
  series(provider: string, n = 30): number[] {
    return (this.byProvider.get(provider) ?? []).slice(-n).map((x) => x.ms);
  }

  private prune(list: Array<{ at: number }>, now: number) {
    let i = 0;
    while (i < list.length && now - list[i]!.at > HOUR) i++;
    if (i) list.splice(0, i);
  }
}

/** Nearest-rank percentile of a sorted list. */
export function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
