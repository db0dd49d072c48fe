/** The request log and /metrics over a real daemon: complete, parseable, and secret-free. */
import Anthropic from "@anthropic-ai/sdk";
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import parsePrometheus from "parse-prometheus-text-format";
import { startCounting } from "../standins/counting.ts";
import { NOWHERE, providerToml } from "../support/daemon.ts";
import { atradInFrontOf } from "../support/gateway.ts";

const TOKEN = "tok-very-secret-123";
const PROMPT = "PROMPT-TEXT-that-must-never-be-logged";
const { up, atrad } = await atradInFrontOf({ up: startCounting("up") }, ({ up }) => `
[server]
auth_tokens = ["${TOKEN}"]
${providerToml("local", "anthropic", up.url, 'api_key = "upstream-key-456"')}
${providerToml("dead", "anthropic", NOWHERE)}
[routes]
default = ["dead/m", "local/m"]
`);

test("one complete JSON line per request, free of prompt text and credentials", async () => {
  const client = new Anthropic({ baseURL: atrad.url, apiKey: TOKEN, maxRetries: 0 });
  await client.messages.create({ model: "claude-opus-5-5", max_tokens: 5, system: PROMPT, messages: [{ role: "user", content: PROMPT }] }, { headers: { "x-claude-code-session-id": "sess-1" } });
  await client.messages.stream({ model: "claude-opus-5-5", max_tokens: 5, messages: [{ role: "user", content: PROMPT }] }).finalMessage();
  await client.messages.create({ model: "local/m", max_tokens: 5, messages: [{ role: "user", content: [{ type: "text", text: "[" }] as any }] }).catch(() => {});
  await atrad.requestLog.flush();
  const text = readFileSync(join(atrad.home, "logs", "requests.jsonl"), "utf8");
  const lines = text.trim().split("\n").map((l) => JSON.parse(l));
  expect(lines.length).toBe(3);
  for (const key of ["time", "request_id", "session_id", "model", "target", "fallbacks", "status", "ttft_ms", "total_ms", "input_tokens", "output_tokens", "stop_reason", "client_aborted"])
    expect(lines[0]).toHaveProperty(key);
  expect(lines[0]).toMatchObject({ session_id: "sess-1", model: "claude-opus-5-5", target: "local/m", status: 200, stop_reason: "end_turn", input_tokens: 3, output_tokens: 4, client_aborted: false });
  expect(lines[0].fallbacks[0].target).toBe("dead/m");
  expect(lines[1]).toMatchObject({ stream: true, status: 200, output_tokens: 4 });
  expect(typeof lines[1].ttft_ms).toBe("number");
  for (const secret of [PROMPT, TOKEN, "upstream-key-456"]) expect(text).not.toContain(secret);
});

test("/metrics is Prometheus text behind the same auth rule", async () => {
  expect((await fetch(`${atrad.url}/metrics`)).status).toBe(401);
  const res = await fetch(`${atrad.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.headers.get("content-type")).toContain("text/plain");
  const families = parsePrometheus(await res.text()) as Array<{ name: string; type: string; metrics: any[] }>;
  const byName = new Map(families.map((f) => [f.name, f]));
  const requests = byName.get("atrad_requests_total")!;
  expect(requests.type).toBe("COUNTER");
  const ok = requests.metrics.find((m) => m.labels.provider === "local" && m.labels.status === "200");
  expect(Number(ok.value)).toBeGreaterThanOrEqual(2);
  expect(byName.get("atrad_request_duration_seconds")!.type).toBe("HISTOGRAM");
  expect(byName.get("atrad_time_to_first_token_seconds")!.type).toBe("HISTOGRAM");
  expect(byName.get("atrad_in_flight_requests")!.metrics.find((m) => m.labels.provider === "local").value).toBe("0");
  expect(byName.has("atrad_queue_depth")).toBe(true);
  expect(Number(byName.get("atrad_fallbacks_total")!.metrics.find((m) => m.labels.target === "dead/m").value)).toBeGreaterThanOrEqual(2);
  const tokens = byName.get("atrad_tokens_total")!.metrics;
  expect(Number(tokens.find((m) => m.labels.direction === "output").value)).toBeGreaterThanOrEqual(8);
});

test("the status document carries the last hour's per-provider figures", async () => {
  const status: any = await (await fetch(`${atrad.url}/atrad/status`, { headers: { "x-api-key": TOKEN } })).json();
  const local = status.providers.find((p: any) => p.name === "local");
  expect(local.stats.requests_1h).toBeGreaterThanOrEqual(2);
  expect(local.stats.p50_ms).toBeGreaterThanOrEqual(0);
  expect(local.hosts).toEqual([{ url: up.url, state: "up", in_flight: 0 }]);
});
