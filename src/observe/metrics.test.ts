import { expect, test } from "bun:test";
import parsePrometheus from "parse-prometheus-text-format";
import { RecordBuilder } from "../gateway/record.ts";
import { createMetrics } from "./metrics.ts";

const rec = (over: Record<string, unknown>) => ({ ...new RecordBuilder("id", null, "m", true).finish(200), provider: "a", ...over }) as never;

test("requests add up to the counters and histograms a scrape reads", async () => {
  const m = createMetrics({ providers: () => [{ name: "a", inFlight: 2, queued: 1 }], services: () => [{ name: "s", up: true, restarts: 3 }] });
  m.observe(rec({ total_ms: 40, ttft_ms: 20, input_tokens: 10, cache_read_tokens: 90, output_tokens: 5 }));
  m.observe(rec({ total_ms: 700, ttft_ms: null, output_tokens: 7, fallbacks: [{ target: "dead/m", reason: "down" }] }));
  m.observe(rec({ status: 529, total_ms: 400_000, client_aborted: true, provider: null }));
  const families = parsePrometheus((await m.render()).body) as Array<{ name: string; type: string; metrics: any[] }>;
  const f = new Map(families.map((x) => [x.name, x]));
  const value = (name: string, labels: Record<string, string>) => f.get(name)!.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v))?.value;
  expect(value("atrad_requests_total", { provider: "a", status: "200" })).toBe("2");
  expect(value("atrad_requests_total", { provider: "none", status: "529" })).toBe("1");
  expect(value("atrad_fallbacks_total", { target: "dead/m" })).toBe("1");
  expect(value("atrad_tokens_total", { provider: "a", direction: "input" })).toBe("10");
  expect(value("atrad_tokens_total", { provider: "a", direction: "cache_read" })).toBe("90");
  expect(value("atrad_tokens_total", { provider: "a", direction: "output" })).toBe("12");
  expect(value("atrad_client_aborts_total", { provider: "none" })).toBe("1");
  expect(value("atrad_client_aborts_total", { provider: "a" })).toBeUndefined();
  expect(value("atrad_in_flight_requests", { provider: "a" })).toBe("2");
  expect(value("atrad_service_restarts", { service: "s" })).toBe("3");
  const text = (await m.render()).body;
  const line = (l: string) => text.split("\n").find((x) => x.startsWith(`${l} `))?.slice(l.length + 1);
  expect(f.get("atrad_request_duration_seconds")!.type).toBe("HISTOGRAM");
  expect(line('atrad_request_duration_seconds_count{provider="a"}')).toBe("2");
  expect(Number(line('atrad_request_duration_seconds_sum{provider="a"}'))).toBeCloseTo(0.74);
  expect(line('atrad_request_duration_seconds_bucket{le="0.05",provider="a"}')).toBe("1");
  expect(line('atrad_request_duration_seconds_bucket{le="0.5",provider="a"}')).toBe("1");
  expect(line('atrad_request_duration_seconds_bucket{le="1",provider="a"}')).toBe("2");
  // Past the last bucket: counted in +Inf only.
  expect(line('atrad_request_duration_seconds_bucket{le="300",provider="none"}')).toBe("0");
  expect(line('atrad_request_duration_seconds_bucket{le="+Inf",provider="none"}')).toBe("1");
  expect(line('atrad_time_to_first_token_seconds_count{provider="a"}')).toBe("1");
  expect(line('atrad_time_to_first_token_seconds_count{provider="none"}')).toBeUndefined();
});
