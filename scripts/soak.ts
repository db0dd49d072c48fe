/**
 * The soak: N mixed requests against a real `atrad serve` process (all four kinds, streaming
 * and not, a share of them aborted by the client at a random moment) with healthy stand-in
 * upstreams, so every 5xx or stream `error` is atrad's own. Reports the daemon's RSS and open
 * fds after warm-up and at the end. `bun scripts/soak.ts --requests 20000`; the long test run
 * (`./scripts/test.sh --long`) runs it reduced (test/reliability/soak.long.ts).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseSse } from "../src/wire/sse.ts";
import { startFaulty, type Faulty } from "../test/standins/faulty.ts";
import { startVictoriaStandIn, type VictoriaStandIn } from "../test/standins/victoria.ts";
import { freePort, waitForHealth } from "../test/support/binary.ts";
import { noDefaultServices } from "../test/support/services.ts";
import { openFds, rssOf, tcpConnectionsTo } from "../test/reliability/support.ts";

const MAIN = resolve(import.meta.dir, "../src/main.ts");
export const TOKEN = "soak-token-5d1f0c";

export interface Harness {
  url: string;
  pid: number;
  faulty: Faulty;
  victoria: VictoriaStandIn;
  stop(): Promise<number>;
  stderr(): Promise<string>;
}

/** Stand-ins for every kind, and `atrad serve` from source pointed at them. */
export async function startHarness(): Promise<Harness> {
  const faulty = startFaulty();
  faulty.slowDelayMs = 5;
  const victoria = startVictoriaStandIn();
  const home = mkdtempSync(join(tmpdir(), "atrad-soak-"));
  const port = freePort();
  const file = join(home, "config.toml");
  writeFileSync(
    file,
    `[server]
port = ${port}
auth_tokens = ["${TOKEN}"]
max_body_mb = 1
[log]
level = "warn"
${["openai", "ollama", "anthropic"].map((k) => `[providers.${k}]\nkind = "${k}"\nurl = "${faulty.url}"\nmodels = ["ok", "slow"]\ntimeout_s = 20\n`).join("")}
[providers.victoria]
kind = "victoria"
url = "${victoria.url}"
[routes]
default = ["openai/ok"]
${noDefaultServices()}`,
  );
  const proc = Bun.spawn([process.execPath, MAIN, "serve", "--config", file], { env: { ...process.env, ATRAD_HOME: home, HOME: home }, stdout: "ignore", stderr: "pipe" });
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, 20_000);
  return {
    url,
    pid: proc.pid,
    faulty,
    victoria,
    stderr: () => new Response(proc.stderr).text(),
    async stop() {
      proc.kill("SIGTERM");
      const code = await proc.exited;
      await faulty.stop();
      await victoria.stop();
      return code;
    },
  };
}

export interface SoakFigures {
  requests: number;
  streaming: number;
  aborted: number;
  byStatus: Record<string, number>;
  /** 5xx answers and stream `error` events while every upstream was healthy: atrad's own. */
  atradErrors: number;
  errorSamples: string[];
  rssWarm: number;
  rssEnd: number;
  rssGrowth: number;
  fdsWarm: number;
  fdsEnd: number;
  upstreamOpenEnd: number;
  daemonUp: boolean;
  seconds: number;
}

const KINDS = ["openai/ok", "ollama/ok", "anthropic/ok", "openai/slow", "ollama/slow", "anthropic/slow", "victoria"];

export async function runSoak(h: Harness, opts: { requests: number; concurrency?: number; abortRate?: number; warmup?: number; seed?: number }): Promise<SoakFigures> {
  const concurrency = opts.concurrency ?? 16;
  const abortRate = opts.abortRate ?? 0.1;
  let seed = opts.seed ?? 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const f: SoakFigures = { requests: 0, streaming: 0, aborted: 0, byStatus: {}, atradErrors: 0, errorSamples: [], rssWarm: 0, rssEnd: 0, rssGrowth: 0, fdsWarm: 0, fdsEnd: 0, upstreamOpenEnd: 0, daemonUp: false, seconds: 0 };
  const started = performance.now();

  async function one(i: number, count: boolean) {
    const model = KINDS[i % KINDS.length]!;
    const stream = rand() < 0.5;
    const abort = rand() < abortRate;
    const ac = new AbortController();
    const timer = abort ? setTimeout(() => ac.abort(), Math.floor(rand() * 150)) : undefined;
    const note = (what: string) => {
      if (!count) return;
      f.atradErrors++;
      if (f.errorSamples.length < 10) f.errorSamples.push(`${model} ${stream ? "stream" : "json"}: ${what}`);
    };
    try {
      const res = await fetch(`${h.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": TOKEN, "anthropic-version": "2023-06-01" },
        body: JSON.stringify({ model, max_tokens: 64, stream, messages: [{ role: "user", content: `soak ${i}` }] }),
        signal: ac.signal,
      });
      if (count) f.byStatus[res.status] = (f.byStatus[res.status] ?? 0) + 1;
      if (res.status >= 500) note(`${res.status} ${(await res.text()).slice(0, 200)}`);
      else if (stream && res.headers.get("content-type")?.includes("event-stream")) {
        let last = "";
        for await (const m of parseSse(res.body!)) last = m.data;
        const ev = JSON.parse(last || "{}");
        if (ev.type !== "message_stop") note(`stream ended with ${last.slice(0, 200)}`);
      } else await res.arrayBuffer();
    } catch (err) {
      if (count && ac.signal.aborted) f.aborted++;
      else if (count) note(`client error ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
      if (count) {
        f.requests++;
        if (stream) f.streaming++;
      }
    }
  }

  async function pool(n: number, count: boolean) {
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < n) await one(next++, count);
    }));
  }

  // Warm-up: JIT, pools, lazily opened files; then the baseline.
  await pool(opts.warmup ?? 300, false);
  await Bun.sleep(500);
  f.rssWarm = rssOf(h.pid);
  f.fdsWarm = openFds(h.pid);
  await pool(opts.requests, true);
  await Bun.sleep(1000);
  f.rssEnd = rssOf(h.pid);
  f.fdsEnd = openFds(h.pid);
  f.rssGrowth = f.rssEnd / f.rssWarm - 1;
  f.upstreamOpenEnd = h.faulty.open;
  f.daemonUp = await fetch(`${h.url}/health`).then((r) => r.ok, () => false);
  f.seconds = (performance.now() - started) / 1000;
  void tcpConnectionsTo;
  return f;
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Bun.argv.slice(2), options: { requests: { type: "string" }, concurrency: { type: "string" }, abort: { type: "string" } } });
  const h = await startHarness();
  try {
    const f = await runSoak(h, { requests: Number(values.requests ?? 20000), concurrency: Number(values.concurrency ?? 16), abortRate: Number(values.abort ?? 0.1) });
    console.log(JSON.stringify({ ...f, rssWarmMB: +(f.rssWarm / 1048576).toFixed(1), rssEndMB: +(f.rssEnd / 1048576).toFixed(1), rssGrowthPct: +(f.rssGrowth * 100).toFixed(2) }, null, 2));
    const ok = f.atradErrors === 0 && f.rssGrowth < 0.1 && f.fdsEnd <= f.fdsWarm + 5 && f.daemonUp;
    console.log(ok ? "SOAK PASSED" : "SOAK FAILED");
    process.exitCode = ok ? 0 : 1;
  } finally {
    await h.stop();
  }
}
