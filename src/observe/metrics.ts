/**
 * `GET /metrics` in the Prometheus text format, with prom-client on a registry of our own
 * (never the global one, so tests and reloads don't collide).
 *
 * A request only adds to plain numbers (`observe`): prom-client's label lookups (a hash of the
 * label set, its validation, an object per call) cost ~10 µs a request on the streaming path,
 * and nobody reads them until a scrape. The metrics read those numbers in `collect()`, which
 * prom-client calls at scrape time.
 */
// The four classes from their own files, not the package's index: the index also loads the
// cluster aggregator, the push gateway client (node:http, https, zlib) and the default
// metrics (perf_hooks, v8), none of which atrad uses; they were ~10 MB of the daemon's RSS.
import Counter from "prom-client/lib/counter";
import Gauge from "prom-client/lib/gauge";
import Registry from "prom-client/lib/registry";
import type { RequestRecord } from "../gateway/record.ts";

export interface MetricsSources {
  /** In-flight requests and queue depth per provider. */
  providers(): Array<{ name: string; inFlight: number; queued: number }>;
  /** Supervised services: up (1) or not (0), and restarts so far. */
  services(): Array<{ name: string; up: boolean; restarts: number }>;
}

const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** One histogram series as plain numbers: counts per bucket (the last is +Inf only), sum, count. */
class Series {
  readonly counts = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0);
  sum = 0;
  count = 0;

  observe(v: number) {
    let i = 0;
    while (i < LATENCY_BUCKETS.length && v > LATENCY_BUCKETS[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

/** What one provider's requests added up to. */
class ProviderTotals {
  readonly byStatus = new Map<number, number>();
  readonly latency = new Series();
  readonly ttft = new Series();
  input = 0;
  cacheRead = 0;
  output = 0;
  aborted = 0;
}

/**
 * A histogram by one label, read from Series at scrape time. prom-client's Histogram has no way
 * to load counts, so this is a metric of its own: the registry asks any registered metric for
 * `get()` (name, help, type and values, exactly what a Histogram answers) and renders that.
 */
class SeriesHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly series: () => Iterable<[string, Series]>,
  ) {}

  async get() {
    const values: Array<{ value: number; labels: Record<string, string | number>; metricName: string }> = [];
    for (const [provider, s] of this.series()) {
      if (!s.count) continue;
      let acc = 0;
      LATENCY_BUCKETS.forEach((le, i) => {
        acc += s.counts[i]!;
        values.push({ value: acc, labels: { le, provider }, metricName: `${this.name}_bucket` });
      });
      values.push({ value: s.count, labels: { le: "+Inf", provider }, metricName: `${this.name}_bucket` });
      values.push({ value: s.sum, labels: { provider }, metricName: `${this.name}_sum` });
      values.push({ value: s.count, labels: { provider }, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset() {}
}

export function createMetrics(sources: MetricsSources) {
  const registry = new Registry();
  const totals = new Map<string, ProviderTotals>();
  const fallbackTotals = new Map<string, number>();
  const each = function* <T>(pick: (t: ProviderTotals) => T): Iterable<[string, T]> {
    for (const [provider, t] of totals) yield [provider, pick(t)];
  };

  new Counter({
    name: "atrad_requests_total",
    help: "Requests answered, by provider and HTTP status.",
    labelNames: ["provider", "status"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [provider, t] of totals) for (const [status, n] of t.byStatus) this.inc({ provider, status: String(status) }, n);
    },
  });
  new Counter({
    name: "atrad_fallbacks_total",
    help: "Targets abandoned for the next one.",
    labelNames: ["target"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [target, n] of fallbackTotals) this.inc({ target }, n);
    },
  });
  registry.registerMetric(new SeriesHistogram("atrad_request_duration_seconds", "Whole-request time.", () => each((t) => t.latency)) as never);
  registry.registerMetric(new SeriesHistogram("atrad_time_to_first_token_seconds", "Time to the first content event.", () => each((t) => t.ttft)) as never);
  new Counter({
    name: "atrad_tokens_total",
    help: "Tokens by provider and direction: input (prompt processed anew), cache_read (prompt served from the backend's prefix cache), output.",
    labelNames: ["provider", "direction"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [provider, t] of totals) {
        if (t.input) this.inc({ provider, direction: "input" }, t.input);
        if (t.cacheRead) this.inc({ provider, direction: "cache_read" }, t.cacheRead);
        if (t.output) this.inc({ provider, direction: "output" }, t.output);
      }
    },
  });
  new Counter({
    name: "atrad_client_aborts_total",
    help: "Requests the client abandoned.",
    labelNames: ["provider"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [provider, t] of totals) if (t.aborted) this.inc({ provider }, t.aborted);
    },
  });
  new Gauge({
    name: "atrad_in_flight_requests",
    help: "Requests being served, by provider.",
    labelNames: ["provider"],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of sources.providers()) this.set({ provider: p.name }, p.inFlight);
    },
  });
  new Gauge({
    name: "atrad_queue_depth",
    help: "Requests waiting for a max_concurrency slot, by provider.",
    labelNames: ["provider"],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of sources.providers()) this.set({ provider: p.name }, p.queued);
    },
  });
  new Gauge({
    name: "atrad_service_up",
    help: "1 when a supervised service is up.",
    labelNames: ["service"],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sources.services()) this.set({ service: s.name }, s.up ? 1 : 0);
    },
  });
  new Gauge({
    name: "atrad_service_restarts",
    help: "Restarts of a supervised service since atrad started.",
    labelNames: ["service"],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sources.services()) this.set({ service: s.name }, s.restarts);
    },
  });

  return {
    registry,
    observe(r: RequestRecord) {
      const provider = r.provider ?? "none";
      let t = totals.get(provider);
      if (!t) totals.set(provider, (t = new ProviderTotals()));
      t.byStatus.set(r.status, (t.byStatus.get(r.status) ?? 0) + 1);
      t.latency.observe(r.total_ms / 1000);
      if (r.ttft_ms !== null) t.ttft.observe(r.ttft_ms / 1000);
      if (r.input_tokens) t.input += r.input_tokens;
      if (r.cache_read_tokens) t.cacheRead += r.cache_read_tokens;
      if (r.output_tokens) t.output += r.output_tokens;
      if (r.client_aborted) t.aborted++;
      for (const f of r.fallbacks) fallbackTotals.set(f.target, (fallbackTotals.get(f.target) ?? 0) + 1);
    },
    async render(): Promise<{ body: string; contentType: string }> {
      return { body: await registry.metrics(), contentType: registry.contentType };
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
