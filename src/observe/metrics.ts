/**
 * `GET /metrics` in the Prometheus text format, with prom-client on a registry of our own
 * (never the global one, so tests and reloads don't collide).
 */
// The four classes from their own files, not the package's index: the index also loads the
// cluster aggregator, the push gateway client (node:http, https, zlib) and the default
// metrics (perf_hooks, v8), none of which atrad uses; they were ~10 MB of the daemon's RSS.
import Counter from "prom-client/lib/counter";
import Gauge from "prom-client/lib/gauge";
import Histogram from "prom-client/lib/histogram";
import Registry from "prom-client/lib/registry";
import type { RequestRecord } from "../gateway/record.ts";

export interface MetricsSources {
  /** In-flight requests and queue depth per provider. */
  providers(): Array<{ name: string; inFlight: number; queued: number }>;
  /** Supervised services: up (1) or not (0), and restarts so far. */
  services(): Array<{ name: string; up: boolean; restarts: number }>;
}

const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export function createMetrics(sources: MetricsSources) {
  const registry = new Registry();
  const requests = new Counter({ name: "atrad_requests_total", help: "Requests answered, by provider and HTTP status.", labelNames: ["provider", "status"], registers: [registry] });
  const fallbacks = new Counter({ name: "atrad_fallbacks_total", help: "Targets abandoned for the next one.", labelNames: ["target"], registers: [registry] });
  const latency = new Histogram({ name: "atrad_request_duration_seconds", help: "Whole-request time.", labelNames: ["provider"], buckets: LATENCY_BUCKETS, registers: [registry] });
  const ttft = new Histogram({ name: "atrad_time_to_first_token_seconds", help: "Time to the first content event.", labelNames: ["provider"], buckets: LATENCY_BUCKETS, registers: [registry] });
  const tokens = new Counter({ name: "atrad_tokens_total", help: "Tokens by provider and direction: input (prompt processed anew), cache_read (prompt served from the backend's prefix cache), output.", labelNames: ["provider", "direction"], registers: [registry] });
  const aborted = new Counter({ name: "atrad_client_aborts_total", help: "Requests the client abandoned.", labelNames: ["provider"], registers: [registry] });
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
      requests.inc({ provider, status: String(r.status) });
      latency.observe({ provider }, r.total_ms / 1000);
      if (r.ttft_ms !== null) ttft.observe({ provider }, r.ttft_ms / 1000);
      if (r.input_tokens) tokens.inc({ provider, direction: "input" }, r.input_tokens);
      if (r.cache_read_tokens) tokens.inc({ provider, direction: "cache_read" }, r.cache_read_tokens);
      if (r.output_tokens) tokens.inc({ provider, direction: "output" }, r.output_tokens);
      if (r.client_aborted) aborted.inc({ provider });
      for (const f of r.fallbacks) fallbacks.inc({ target: f.target });
    },
    async render(): Promise<{ body: string; contentType: string }> {
      return { body: await registry.metrics(), contentType: registry.contentType };
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
