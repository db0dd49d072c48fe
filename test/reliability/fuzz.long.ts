/**
 * HTTP fuzz against a real `atrad serve` process: thousands of malformed and mutated requests —
 * mutations of the real Claude Code request, random JSON, broken bytes, odd methods, paths and
 * headers — must each get a 4xx Anthropic envelope or a success; the daemon stays up, its RSS
 * steady and its fds at the baseline. In the long run (`./scripts/test.sh --long`); ATRAD_FUZZ=N
 * for more.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startHarness, TOKEN, type Harness } from "../../scripts/soak.ts";
import { ROOT } from "../support/binary.ts";
import { openFds, rssOf } from "./support.ts";

const N = Number(process.env.ATRAD_FUZZ ?? 3000);
const fixture = JSON.parse(readFileSync(join(ROOT, "test/fixtures/claude-code-2.1.330-request.json"), "utf8")).body;
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

type Req = { method: string; path: string; headers: Record<string, string>; body?: string | Uint8Array };
const auth = { "x-api-key": TOKEN, "content-type": "application/json" };

/** Replace, delete or retype one value somewhere in `obj` (path chosen by `pick`). */
function mutate(obj: any, picks: number[], replacement: unknown, op: number): any {
  const root = structuredClone(obj);
  let node = root;
  for (const p of picks) {
    if (!node || typeof node !== "object") break;
    const keys = Object.keys(node);
    if (!keys.length) break;
    const k = keys[p % keys.length]!;
    const child = node[k];
    if (child && typeof child === "object" && p % 3 !== 0) {
      node = child;
      continue;
    }
    if (op % 3 === 0) delete node[k];
    else if (op % 3 === 1) node[k] = replacement;
    else node[`${k}_${op}`] = replacement;
    return root;
  }
  return root;
}

const jsonish = fc.jsonValue({ maxDepth: 3 });
const mutatedFixture = fc.tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), jsonish, fc.nat(), fc.boolean()).map(([picks, rep, op, stream]) => {
  const b = mutate({ ...fixture, model: "openai/ok", stream }, picks, rep, op);
  return { method: "POST", path: "/v1/messages?beta=true", headers: auth, body: JSON.stringify(b) } as Req;
});
const truncated = fc.nat().map((n) => {
  const text = JSON.stringify({ ...fixture, model: "anthropic/ok" });
  return { method: "POST", path: "/v1/messages", headers: auth, body: text.slice(0, n % text.length) } as Req;
});
const randomJson = fc.tuple(jsonish, fc.constantFrom("/v1/messages", "/v1/messages/count_tokens", "/atrad/reload")).map(([j, path]) => ({ method: "POST", path, headers: auth, body: JSON.stringify(j) }) as Req);
const smallValid = fc.record({
  model: fc.oneof(fc.constantFrom("openai/ok", "ollama/ok", "anthropic/ok", "victoria", "nope/x", "", "claude-sonnet-4"), fc.string()),
  max_tokens: fc.oneof(fc.integer({ min: -5, max: 100 }), fc.double(), fc.string()),
  messages: fc.oneof(fc.constant([{ role: "user", content: "hi" }]), fc.array(fc.record({ role: fc.constantFrom("user", "assistant", "system", "tool", ""), content: fc.oneof(fc.string(), fc.array(fc.record({ type: fc.constantFrom("text", "image", "tool_use", "tool_result", "x") }, { requiredKeys: [] }), { maxLength: 2 })) }), { maxLength: 3 })),
  stream: fc.jsonValue({ maxDepth: 0 }),
}, { requiredKeys: [] }).map((b) => ({ method: "POST", path: "/v1/messages", headers: auth, body: JSON.stringify(b) }) as Req);
const bytes = fc.uint8Array({ maxLength: 300 }).map((b) => ({ method: "POST", path: "/v1/messages", headers: auth, body: b }) as Req);
const deep = fc.integer({ min: 60, max: 3000 }).map((d) => ({ method: "POST", path: "/v1/messages", headers: auth, body: `{"model":"openai/ok","max_tokens":5,"messages":[{"role":"user","content":"x"}],"metadata":${"{\"a\":".repeat(d)}1${"}".repeat(d)}}` }) as Req);
const oddRequest = fc.record({
  method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"),
  path: fc.oneof(fc.constantFrom("/", "/v1/messages", "/v1/models", "/v1/models/%00", "/atrad/status", "/metrics", "/../../etc/passwd", "/v1/messages/count_tokens", "/atrad/sessions/%E2%80", "//v1//messages"), fc.webPath()),
  headers: fc.oneof(
    fc.constant(auth),
    fc.constant({ "x-api-key": "wrong" }),
    fc.constant({ authorization: "Bearer" }),
    fc.constant({ ...auth, "content-type": "text/plain" }),
    fc.constant({ ...auth, "content-length": "5" }),
    fc.constant({ ...auth, origin: "https://evil.example" }),
    fc.constant({ ...auth, "x-claude-code-session-id": "../../x" }),
  ),
  body: fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
}) as fc.Arbitrary<Req>;

const anyRequest = fc.oneof(
  { weight: 4, arbitrary: mutatedFixture },
  { weight: 1, arbitrary: truncated },
  { weight: 2, arbitrary: randomJson },
  { weight: 2, arbitrary: smallValid },
  { weight: 1, arbitrary: bytes },
  { weight: 1, arbitrary: deep },
  { weight: 2, arbitrary: oddRequest },
);

test(`HTTP fuzz: ${N} malformed and mutated requests get 4xx envelopes or successes; the daemon stays up`, async () => {
  const samples = fc.sample(anyRequest, { numRuns: N, seed: Number(process.env.ATRAD_FUZZ_SEED ?? 20260101) });
  const byStatus: Record<number, number> = {};
  const bad: string[] = [];
  const send = async (r: Req, count: boolean) => {
    let res: Response;
    try {
      const body = (r.method === "GET" || r.method === "HEAD" ? undefined : r.body) as BodyInit | undefined;
      res = await fetch(`${h.url}${r.path}`, { method: r.method, headers: r.headers, body, signal: AbortSignal.timeout(20_000) });
    } catch (err) {
      if (count) bad.push(`${r.method} ${r.path}: client error ${(err as Error).message}`);
      return;
    }
    const text = await res.text().catch(() => "");
    if (!count) return;
    byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
    if (res.status >= 500) bad.push(`${r.method} ${r.path} → ${res.status}: ${text.slice(0, 300)} | body ${String(r.body).slice(0, 200)}`);
    else if (res.status >= 400 && r.method !== "HEAD") {
      try {
        const j = JSON.parse(text);
        if (j.type !== "error" || typeof j.error?.type !== "string" || typeof j.error?.message !== "string") bad.push(`${res.status} without an envelope: ${text.slice(0, 200)}`);
      } catch {
        bad.push(`${r.method} ${r.path} → ${res.status} not JSON: ${text.slice(0, 200)}`);
      }
    } else if (res.headers.get("content-type")?.includes("event-stream") && !/event: (message_stop|error)\n/.test(text)) bad.push(`stream without an end: ${text.slice(-200)}`);
  };
  // Warm-up with the first few, then the baseline.
  for (const r of samples.slice(0, 100)) await send(r, false);
  await Bun.sleep(300);
  const rss0 = rssOf(h.pid);
  const fds0 = openFds(h.pid);
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < samples.length) await send(samples[next++]!, true);
  }));
  await Bun.sleep(500);
  const rss1 = rssOf(h.pid);
  const fds1 = openFds(h.pid);
  console.log(`fuzz: ${N} requests, statuses ${JSON.stringify(byStatus)}, RSS ${(rss0 / 1048576).toFixed(1)} → ${(rss1 / 1048576).toFixed(1)} MB, fds ${fds0} → ${fds1}`);
  expect(bad.slice(0, 10)).toEqual([]);
  expect((await fetch(`${h.url}/health`)).status).toBe(200);
  expect(Object.keys(byStatus).some((s) => Number(s) >= 400)).toBe(true);
  expect(byStatus[200] ?? 0).toBeGreaterThan(0);
  // 8 client workers keep up to 8 connections alive; beyond that an fd leaked.
  expect(fds1).toBeLessThanOrEqual(fds0 + 8 + 3);
  // RSS steady: 3,000 requests, many carrying the ~100 KB Claude Code body, moved it
  // 109 → 123 MB after the stream-leak fix (RELIABILITY.md); a leak per request breaks this.
  // Right after the burst the figure also holds garbage not yet collected (77 → 119 MB in one
  // CI run, 77 → 96 in the next): what is only garbage goes at the latest with the daemon's
  // quiet-spell release (30 s after the last answer), what leaked stays.
  let rss2 = rss1;
  for (const until = Date.now() + 45_000; rss2 / rss0 >= 1.5 && Date.now() < until; rss2 = rssOf(h.pid)) await Bun.sleep(500);
  if (rss2 !== rss1) console.log(`fuzz: RSS ${(rss2 / 1048576).toFixed(1)} MB once the daemon had collected`);
  expect(rss2 / rss0).toBeLessThan(1.5);
}, 120_000);
