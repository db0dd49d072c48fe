/**
 * `bun run bench [--quick] [--no-peer] [--rounds N] [--cpu-prof DIR]`
 *
 * Starts the fast stand-in upstream (bench/standin.ts), two pass-through proxies in front of it
 * (Bun.serve and node:http: the runtime's floors), the compiled dist/atrad (built when missing)
 * on a temp ATRAD_HOME, and two peers on temp HOMEs — claude-code-router 2.0.0 and claudish
 * (`claudish serve`, its headless gateway), installed with npm into bench/.peer/ and
 * bench/.peer-claudish/ on first use — all on 127.0.0.1, and measures them in the same run,
 * alternating the order each round; figures are medians over rounds. Results go to stdout and
 * bench/results/latest.json. `--cpu-prof DIR` runs atrad from source under `bun --cpu-prof`
 * instead of the binary (the profile is written when the bench stops it).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { pct, runLoad, type LoadResult } from "./client.ts";
import { idleCpuShare } from "./cpu.ts";
import { benchConfig } from "./config.ts";

const root = resolve(import.meta.dir, "..");
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const QUICK = flag("--quick");
const PEER = !flag("--no-peer");
const PROFILE_DIR = option("--cpu-prof");
const ROUNDS = Number(option("--rounds") ?? (QUICK ? 1 : 3));
const T = QUICK
  ? { c1Ms: 400, c64Ms: 600, wrkS: 1, relayRuns: 1, startupRuns: 10 }
  : { c1Ms: 1500, c64Ms: 2000, wrkS: 3, relayRuns: 3, startupRuns: 40 };
const PEER_VERSION = "2.0.0";
const CLAUDISH_VERSION = "10.1.1";

const log = (s: string) => process.stderr.write(s + "\n");
const children: Subprocess[] = [];
let claudish: Subprocess | undefined;
const tmp = mkdtempSync(join(tmpdir(), "atrad-bench-"));

function cleanup() {
  // claudish's launcher leaves its server (a child it spawned) running when it is stopped.
  if (claudish) {
    try {
      process.kill(claudishPid(), "SIGTERM");
    } catch {}
  }
  for (const c of children) {
    try {
      c.kill("SIGTERM");
    } catch {}
  }
}
process.on("SIGINT", () => {
  cleanup();
  process.exit(130);
});

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

async function waitFor(url: string, ms = 15000, init?: RequestInit) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(url, init);
      await r.arrayBuffer();
      return;
    } catch {
      if (Date.now() > until) throw new Error(`${url} did not come up within ${ms} ms`);
      await Bun.sleep(50);
    }
  }
}

function spawn(cmd: string[], env: Record<string, string | undefined>, cwd = root, logName?: string): Subprocess {
  const out = logName ? Bun.file(join(tmp, logName)) : "ignore";
  const p = Bun.spawn(cmd, { cwd, env: { ...process.env, ...env }, stdout: out, stderr: out });
  children.push(p);
  return p;
}

function memory(pid: number): { rssMb: number; hwmMb: number } {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { rssMb: kb("VmRSS") / 1024, hwmMb: kb("VmHWM") / 1024 };
}

// ---------------------------------------------------------------- processes

const standinPort = await freePort();
const atradPort = await freePort();
const peerPort = await freePort();
const barePort = await freePort();
const bareJsPort = await freePort();
const bareNodePort = await freePort();
const claudishPort = await freePort();

spawn(["bun", join(root, "bench/standin.ts"), String(standinPort)], {}, root, "standin.log");
await waitFor(`http://127.0.0.1:${standinPort}/`);
spawn(["bun", join(root, "bench/bare-proxy.ts"), String(barePort), `http://127.0.0.1:${standinPort}`], {}, root, "bare.log");
await waitFor(`http://127.0.0.1:${barePort}/`);
spawn(["bun", join(root, "bench/bare-js-proxy.ts"), String(bareJsPort), `http://127.0.0.1:${standinPort}`], {}, root, "bare-js.log");
await waitFor(`http://127.0.0.1:${bareJsPort}/`);
spawn(["bun", join(root, "bench/bare-node-proxy.ts"), String(bareNodePort), `http://127.0.0.1:${standinPort}`], {}, root, "bare-node.log");
await waitFor(`http://127.0.0.1:${bareNodePort}/`);

const atradHome = join(tmp, "atrad-home");
mkdirSync(atradHome, { recursive: true });
const up = `http://127.0.0.1:${standinPort}`;
writeFileSync(join(atradHome, "config.toml"), benchConfig(atradPort, up));

const binary = join(root, "dist/atrad");
if (!PROFILE_DIR && !existsSync(binary)) {
  log("building dist/atrad …");
  const b = Bun.spawnSync(["bun", "scripts/build.ts"], { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (b.exitCode !== 0) throw new Error("build failed");
}
const atradCmd = PROFILE_DIR
  ? ["bun", "--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${resolve(PROFILE_DIR)}`, join(root, "src/main.ts"), "serve"]
  : [binary, "serve"];
const atrad = spawn(atradCmd, { ATRAD_HOME: atradHome, ATRAD_CONFIG: undefined, ATRAD_PORT: undefined, ATRAD_HOST: undefined }, root, "atrad.log");
await waitFor(`http://127.0.0.1:${atradPort}/health`);

let peer: Subprocess | undefined;
if (PEER) {
  const peerDir = join(root, "bench/.peer");
  const cli = join(peerDir, "node_modules/@musistudio/claude-code-router/dist/cli.js");
  if (!existsSync(cli)) {
    log(`installing @musistudio/claude-code-router@${PEER_VERSION} into bench/.peer …`);
    mkdirSync(peerDir, { recursive: true });
    if (!existsSync(join(peerDir, "package.json"))) writeFileSync(join(peerDir, "package.json"), '{ "private": true }\n');
    const n = Bun.spawnSync(["npm", "install", "--no-audit", "--no-fund", `@musistudio/claude-code-router@${PEER_VERSION}`], { cwd: peerDir, stdout: "inherit", stderr: "inherit" });
    if (n.exitCode !== 0) throw new Error("npm install of the peer failed");
  }
  const peerHome = join(tmp, "peer-home");
  mkdirSync(join(peerHome, ".claude-code-router"), { recursive: true });
  // LOG off: its default (debug to a file) would only make the peer slower.
  writeFileSync(
    join(peerHome, ".claude-code-router/config.json"),
    JSON.stringify({
      LOG: false,
      HOST: "127.0.0.1",
      PORT: peerPort,
      Providers: [{ name: "stand", api_base_url: `${up}/v1/chat/completions`, api_key: "x", models: ["m", "m-10000", "slow-20-100"] }],
      Router: { default: "stand,m" },
    }),
  );
  peer = spawn(["node", cli, "start"], { HOME: peerHome }, peerDir, "peer.log");
  await waitFor(`http://127.0.0.1:${peerPort}/`, 30000);
}

// claudish: `claudish serve` is its gateway without Claude Code (one slot, model "m", on its
// vLLM provider = any OpenAI-compatible /v1/chat/completions). Its published package pins
// @1password/sdk@0.4.1-beta.1, which the registry no longer has: npm is told to use 0.4.1.
if (PEER) {
  const dir = join(root, "bench/.peer-claudish");
  const cli = join(dir, "node_modules/claudish/bin/claudish.cjs");
  if (!existsSync(cli)) {
    log(`installing claudish@${CLAUDISH_VERSION} into bench/.peer-claudish …`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ private: true, overrides: { "@1password/sdk": "0.4.1" } }) + "\n");
    const n = Bun.spawnSync(["npm", "install", "--no-audit", "--no-fund", `claudish@${CLAUDISH_VERSION}`], { cwd: dir, stdout: "inherit", stderr: "inherit" });
    if (n.exitCode !== 0) throw new Error("npm install of claudish failed");
  }
  const home = join(tmp, "claudish-home");
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, "models.json"), JSON.stringify(["m", "m-10000", "slow-20-100"].map((m) => ({ slot: m, model: m, provider: "vllm" }))));
  claudish = spawn(["node", cli, "serve", "--port", String(claudishPort), "--models", join(home, "models.json")], { HOME: home, VLLM_BASE_URL: up }, dir, "claudish.log");
  await waitFor(`http://127.0.0.1:${claudishPort}/v1/models`, 30000);
}
/** claudish's launcher re-runs itself under another process: its memory is the leaf's. */
function leafPid(pid: number): number {
  for (;;) {
    let kids: string[] = [];
    try {
      kids = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
    } catch {}
    if (kids.length !== 1) return pid;
    pid = Number(kids[0]);
  }
}
const claudishPid = () => leafPid(claudish!.pid);

// ---------------------------------------------------------------- subjects

type Kind = "anthropic" | "openai" | "ollama";
/**
 * direct = the stand-in itself; the runtime's floors, pass-through proxies: bare = Bun.serve handing
 * the upstream body over natively, barejs = Bun.serve reading and writing it in JS (what any relay
 * that looks at its stream pays), barenode = the same on node:http.
 */
type Who = "direct" | "bare" | "barejs" | "barenode" | "atrad" | "peer" | "claudish";
interface Subject {
  who: Who;
  port: number;
  path: string;
  body(stream: boolean, model?: string): string;
}
const anthropicBody = (model: string) => (stream: boolean, m = "m") =>
  JSON.stringify({ model: model.replace("m", m), max_tokens: 100, stream, messages: [{ role: "user", content: "hi" }] });
const chatBody = (stream: boolean, m = "m") => JSON.stringify({ model: m, stream, messages: [{ role: "user", content: "hi" }] });

const subjects: Record<Kind, Subject[]> = {
  anthropic: [
    { who: "direct", port: standinPort, path: "/v1/messages", body: anthropicBody("m") },
    { who: "bare", port: barePort, path: "/v1/messages", body: anthropicBody("m") },
    { who: "barejs", port: bareJsPort, path: "/v1/messages", body: anthropicBody("m") },
    { who: "barenode", port: bareNodePort, path: "/v1/messages", body: anthropicBody("m") },
    { who: "atrad", port: atradPort, path: "/v1/messages", body: anthropicBody("ant/m") },
  ],
  openai: [
    { who: "direct", port: standinPort, path: "/v1/chat/completions", body: chatBody },
    { who: "bare", port: barePort, path: "/v1/chat/completions", body: chatBody },
    { who: "barejs", port: bareJsPort, path: "/v1/chat/completions", body: chatBody },
    { who: "barenode", port: bareNodePort, path: "/v1/chat/completions", body: chatBody },
    { who: "atrad", port: atradPort, path: "/v1/messages", body: anthropicBody("oai/m") },
    ...(PEER ? [{ who: "peer" as const, port: peerPort, path: "/v1/messages", body: anthropicBody("stand,m") }] : []),
    ...(PEER ? [{ who: "claudish" as const, port: claudishPort, path: "/v1/messages", body: anthropicBody("m") }] : []),
  ],
  ollama: [
    // Ollama's /api/chat streams NDJSON by default; that is also what atrad asks it for.
    { who: "direct", port: standinPort, path: "/api/chat", body: chatBody },
    { who: "bare", port: barePort, path: "/api/chat", body: chatBody },
    { who: "barejs", port: bareJsPort, path: "/api/chat", body: chatBody },
    { who: "barenode", port: bareNodePort, path: "/api/chat", body: chatBody },
    { who: "atrad", port: atradPort, path: "/v1/messages", body: anthropicBody("oll/m") },
  ],
};
const KINDS: Kind[] = ["anthropic", "openai", "ollama"];
const ordered = <X>(xs: X[], round: number) => (round % 2 ? [...xs].reverse() : xs);

// ---------------------------------------------------------------- measurements

const samples: Record<string, number[]> = {};
const add = (key: string, v: number) => void (samples[key] ??= []).push(v);
const median = (xs: number[] | undefined) => {
  if (!xs?.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function wrk(s: Subject, connections: number, seconds: number): { rps: number; p50: number; p99: number; errors: number } {
  const r = Bun.spawnSync(
    ["wrk", "-t2", `-c${connections}`, `-d${seconds}s`, "--latency", "-s", join(root, "bench/post.lua"), `http://127.0.0.1:${s.port}${s.path}`],
    { env: { ...process.env, BENCH_BODY: s.body(true) } },
  );
  const out = r.stdout.toString();
  const ms = (label: string) => {
    const m = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (!m) return Number.NaN;
    return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1);
  };
  const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) + Number(/Socket errors: .*?timeout (\d+)/.exec(out)?.[1] ?? 0);
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN), p50: ms("50"), p99: ms("99"), errors };
}

async function relay(s: Subject): Promise<{ eventsPerS: number; events: number }> {
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${s.port}${s.path}`, { method: "POST", headers: { "content-type": "application/json" }, body: s.body(true, "m-10000") });
  let events = 0;
  let tail = "";
  const dec = new TextDecoder();
  // SSE events end with a blank line; NDJSON (ollama direct) with a newline.
  const sep = s.path === "/api/chat" ? "\n" : "\n\n";
  for await (const chunk of res.body!) {
    const text = tail + dec.decode(chunk, { stream: true });
    let i = 0;
    for (;;) {
      const j = text.indexOf(sep, i);
      if (j < 0) break;
      events++;
      i = j + sep.length;
    }
    tail = text.slice(i);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { eventsPerS: events / seconds, events };
}

async function warm() {
  for (const kind of KINDS) for (const s of subjects[kind]) for (const stream of [true, false]) await runLoad({ port: s.port, path: s.path, body: s.body(stream), connections: 8, durationMs: 300 });
}

const idle: Record<string, number> = { atrad_start: memory(atrad.pid).rssMb };
if (peer) idle.peer_start = memory(peer.pid).rssMb;
if (claudish) idle.claudish_start = memory(claudishPid()).rssMb;
log(`stand-in :${standinPort}  atrad :${atradPort}${peer ? `  peer :${peerPort}` : ""}  rounds ${ROUNDS}${QUICK ? " (quick)" : ""}`);
await warm();
await Bun.sleep(500);
idle.atrad = memory(atrad.pid).rssMb;
if (peer) idle.peer = memory(peer.pid).rssMb;
if (claudish) idle.claudish = memory(claudishPid()).rssMb;

// `atrad status` reads the last hour's history: measure it fresh too, before the load phases.
const fresh = hyperfine("fresh");
const freshPairs = startupPairs("fresh");
const errorsSeen: Record<string, number> = {};
for (let round = 0; round < ROUNDS; round++) {
  log(`round ${round + 1}/${ROUNDS}: latency`);
  for (const kind of KINDS) {
    for (const stream of [false, true]) {
      for (const c of [1, 64]) {
        for (const s of ordered(subjects[kind], round)) {
          const r: LoadResult = await runLoad({ port: s.port, path: s.path, body: s.body(stream), connections: c, durationMs: c === 1 ? T.c1Ms : T.c64Ms });
          const key = `${kind}.${stream ? "stream" : "body"}.c${c}.${s.who}`;
          if (r.errors) errorsSeen[key] = (errorsSeen[key] ?? 0) + r.errors;
          // Streaming latency is the time to the first byte; a body's is the whole response.
          const lat = stream ? r.ttfb : r.total;
          add(`${key}.p50`, pct(lat, 0.5));
          add(`${key}.p99`, pct(lat, 0.99));
          add(`${key}.rps`, r.requests / r.seconds);
        }
      }
    }
  }
  log(`round ${round + 1}/${ROUNDS}: throughput (wrk, streaming, 64 connections)`);
  for (const kind of KINDS) {
    for (const s of ordered(subjects[kind], round)) {
      // Unmeasured first: atrad drops its compiled code after 5 s without requests
      // (daemon/idle-release.ts) and every subject waits longer than that between its turns, so
      // without this each atrad figure was its JIT warming up again (bench/relay.ts: CPU per
      // request 320 vs 209 µs). Every subject gets the same warm-up.
      wrk(s, 64, 1);
      const w = wrk(s, 64, T.wrkS);
      const key = `${kind}.wrk.${s.who}`;
      if (w.errors) errorsSeen[key] = (errorsSeen[key] ?? 0) + w.errors;
      add(`${key}.rps`, w.rps);
      add(`${key}.p50`, w.p50);
      add(`${key}.p99`, w.p99);
    }
  }
  log(`round ${round + 1}/${ROUNDS}: relay of one 10,000-delta stream`);
  for (let i = 0; i < T.relayRuns; i++) {
    for (const kind of KINDS) {
      for (const s of ordered(subjects[kind], round + i)) {
        const r = await relay(s);
        add(`${kind}.relay.${s.who}`, r.eventsPerS);
        add(`${kind}.relay.${s.who}.events`, r.events);
      }
    }
  }
}

log("memory: 256 concurrent streams (20 deltas, one every 100 ms)");
async function peakUnder(s: Subject, pid: number): Promise<{ peakMb: number; errors: number; requests: number }> {
  let peakMb = memory(pid).rssMb;
  const timer = setInterval(() => (peakMb = Math.max(peakMb, memory(pid).rssMb)), 20);
  const r = await runLoad({ port: s.port, path: s.path, body: s.body(true, "slow-20-100"), connections: 256, durationMs: 60_000, requests: 256 });
  clearInterval(timer);
  return { peakMb: Math.max(peakMb, memory(pid).rssMb), errors: r.errors, requests: r.requests };
}
const mem256: Record<string, { peakMb: number; errors: number; requests: number }> = {};
mem256.atrad = await peakUnder(subjects.openai.find((s) => s.who === "atrad")!, atrad.pid);
if (peer) mem256.peer = await peakUnder(subjects.openai.find((s) => s.who === "peer")!, peer.pid);
if (claudish) mem256.claudish = await peakUnder(subjects.openai.find((s) => s.who === "claudish")!, claudishPid());
// The same 256 streams on a daemon that has served each kind once and nothing else: its own
// cost, without the allocator high-water of the throughput phases above.
{
  const home = join(tmp, "fresh-home");
  mkdirSync(home, { recursive: true });
  const port = await freePort();
  writeFileSync(join(home, "config.toml"), benchConfig(port, up));
  const fresh = spawn(PROFILE_DIR ? ["bun", join(root, "src/main.ts"), "serve"] : [binary, "serve"], { ATRAD_HOME: home, ATRAD_CONFIG: undefined, ATRAD_PORT: undefined, ATRAD_HOST: undefined }, root, "fresh.log");
  await waitFor(`http://127.0.0.1:${port}/health`);
  for (const kind of KINDS)
    for (const stream of [true, false]) {
      const a = subjects[kind].find((x) => x.who === "atrad")!;
      await (await fetch(`http://127.0.0.1:${port}${a.path}`, { method: "POST", headers: { "content-type": "application/json" }, body: a.body(stream) })).arrayBuffer();
    }
  idle.atrad_fresh_served = memory(fresh.pid).rssMb;
  mem256.atrad_fresh = await peakUnder({ ...subjects.openai.find((s) => s.who === "atrad")!, port }, fresh.pid);
  fresh.kill("SIGTERM");
}
await Bun.sleep(1000);
idle.atrad_after = memory(atrad.pid).rssMb;
const hwm = { atrad: memory(atrad.pid).hwmMb, ...(peer ? { peer: memory(peer.pid).hwmMb } : {}), ...(claudish ? { claudish: memory(claudishPid()).hwmMb } : {}) };

// Idle CPU of a daemon as users run it: the default config, whose five services are probed
// (nothing listens on their ports here, the cheapest and the most common state at login).
log("idle CPU: a default-config daemon, 5 services probed");
const idleHome = join(tmp, "idle-home");
mkdirSync(idleHome, { recursive: true });
const idlePort = await freePort();
writeFileSync(join(idleHome, "config.toml"), `[server]\nport = ${idlePort}\n`);
const idleDaemon = spawn(PROFILE_DIR ? ["bun", join(root, "src/main.ts"), "serve"] : [binary, "serve"], { ATRAD_HOME: idleHome, ATRAD_CONFIG: undefined, ATRAD_PORT: undefined, ATRAD_HOST: undefined }, root, "idle.log");
await waitFor(`http://127.0.0.1:${idlePort}/health`);
// Idle is the steady state a login daemon spends its day in: the first seconds (first probes of
// every service, their code compiled) cost 0.3 % of a core, later windows 0.0-0.1 % (10 s
// windows of one default-config daemon), so the reading starts 10 s in.
await Bun.sleep(QUICK ? 2000 : 10_000);
const idleCpu = { atrad_default_config: await idleCpuShare(idleDaemon.pid, QUICK ? 5000 : 30_000), atrad_bench_config: await idleCpuShare(atrad.pid, QUICK ? 2000 : 5000) };
const idleDefaultRssMb = memory(idleDaemon.pid).rssMb;
idleDaemon.kill("SIGTERM");

log("start-up: hyperfine");
const startup = { ...hyperfine("after load"), ...fresh };
const servedBeforeStatus = await requestsServed();
const pairs = { fresh: freshPairs, after_load: startupPairs("after load") };

/** Requests the bench daemon has answered, from its own /metrics. */
async function requestsServed(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${atradPort}/metrics`)).text();
  return text.split("\n").filter((l) => l.startsWith("atrad_requests_total")).reduce((n, l) => n + Number(l.split(" ").pop()), 0);
}

/**
 * `atrad --version` and `atrad status` run in alternating pairs: on a busy machine the
 * difference within a pair is steadier than two medians taken a minute apart.
 */
function startupPairs(_when: string): { version_ms: number; status_ms: number; status_minus_version_ms: number } {
  const run = (arg: string) => {
    const t = performance.now();
    Bun.spawnSync([binary, arg], { env: { ...process.env, ATRAD_HOME: atradHome }, stdout: "ignore", stderr: "ignore" });
    return performance.now() - t;
  };
  const v: number[] = [];
  const st: number[] = [];
  for (let i = 0; i < T.startupRuns; i++) {
    if (i % 2) {
      st.push(run("status"));
      v.push(run("--version"));
    } else {
      v.push(run("--version"));
      st.push(run("status"));
    }
  }
  return { version_ms: median(v), status_ms: median(st), status_minus_version_ms: median(st.map((x, i) => x - v[i]!)) };
}

function hyperfine(when: string): Record<string, { median_ms: number; mean_ms: number }> {
  const out: Record<string, { median_ms: number; mean_ms: number }> = {};
  const hf = Bun.spawnSync(
  ["hyperfine", "-N", "--warmup", "3", "--runs", String(T.startupRuns), "--export-json", join(tmp, "hyperfine.json"), `${binary} --version`, `${binary} status`],
  { env: { ...process.env, ATRAD_HOME: atradHome }, stdout: "pipe", stderr: "pipe" },
);
  if (hf.exitCode === 0) {
    const j = JSON.parse(readFileSync(join(tmp, "hyperfine.json"), "utf8")) as { results: Array<{ command: string; median: number; mean: number }> };
    for (const r of j.results) out[`${r.command.replace(binary, "atrad")} (${when})`] = { median_ms: r.median * 1000, mean_ms: r.mean * 1000 };
  } else log(`hyperfine failed: ${hf.stderr.toString().slice(0, 300)}`);
  return out;
}

// ---------------------------------------------------------------- report

const m = (key: string) => median(samples[key]);
const addedKey = (kind: Kind, mode: string, c: number, p: string) => {
  // The added latency is taken per round (atrad − direct in that round), then the median.
  const a = samples[`${kind}.${mode}.c${c}.atrad.${p}`] ?? [];
  const d = samples[`${kind}.${mode}.c${c}.direct.${p}`] ?? [];
  return median(a.map((x, i) => x - (d[i] ?? Number.NaN)));
};
const f = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : "—");
const lines: string[] = [];
lines.push(`atrad bench — ${ROUNDS} round(s)${QUICK ? ", quick" : ""}, medians; ${new Date().toISOString()}`);
lines.push("");
lines.push("Latency (ms; streaming = time to first byte, body = whole response); added = atrad − direct");
lines.push("kind       mode    conns  direct p50/p99     atrad p50/p99      added p50/p99     peer p50/p99      claudish p50/p99");
for (const kind of KINDS)
  for (const mode of ["body", "stream"])
    for (const c of [1, 64]) {
      const k = `${kind}.${mode}.c${c}`;
      const peerCol = kind === "openai" && PEER ? `${f(m(`${k}.peer.p50`))} / ${f(m(`${k}.peer.p99`))}`.padEnd(17) + ` ${f(m(`${k}.claudish.p50`))} / ${f(m(`${k}.claudish.p99`))}` : "";
      lines.push(
        `${kind.padEnd(10)} ${mode.padEnd(7)} ${String(c).padStart(5)}  ${`${f(m(`${k}.direct.p50`), 3)} / ${f(m(`${k}.direct.p99`), 3)}`.padEnd(18)} ${`${f(m(`${k}.atrad.p50`), 3)} / ${f(m(`${k}.atrad.p99`), 3)}`.padEnd(18)} ${`${f(addedKey(kind, mode, c, "p50"), 3)} / ${f(addedKey(kind, mode, c, "p99"), 3)}`.padEnd(17)} ${peerCol}`,
      );
    }
lines.push("");
lines.push("Streaming throughput, wrk -t2 -c64 (req/s; latency of the whole response p50/p99 ms); bare = pass-through Bun proxy, barejs = the same reading the stream in JS");
for (const kind of KINDS) {
  const rps = (who: Who) => m(`${kind}.wrk.${who}.rps`);
  const lat = (who: Who) => `(${f(m(`${kind}.wrk.${who}.p50`))}/${f(m(`${kind}.wrk.${who}.p99`))})`;
  const [d, b, bj, bn, a, p, c] = [rps("direct"), rps("bare"), rps("barejs"), rps("barenode"), rps("atrad"), rps("peer"), rps("claudish")];
  lines.push(
    `${kind.padEnd(10)} direct ${f(d, 0).padStart(7)} ${lat("direct")}  bare ${f(b, 0).padStart(7)} ${lat("bare")}  barejs ${f(bj, 0).padStart(7)} ${lat("barejs")}  barenode ${f(bn, 0).padStart(7)} ${lat("barenode")}  atrad ${f(a, 0).padStart(7)} ${lat("atrad")}  atrad/bare ${f((a / b) * 100, 1)} %  atrad/barejs ${f((a / bj) * 100, 1)} %  atrad/barenode ${f((a / bn) * 100, 1)} %  atrad/direct ${f((a / d) * 100, 1)} %  barejs/bare ${f((bj / b) * 100, 1)} %` +
      (Number.isFinite(p) ? `  peer ${f(p, 0)} ${lat("peer")}  atrad/peer ${f(a / p, 1)}×` : "") +
      (Number.isFinite(c) ? `  claudish ${f(c, 0)} ${lat("claudish")}  atrad/claudish ${f(a / c, 0)}×` : ""),
  );
}
// The same ratio per round (both measured back to back), then the median: steadier than a ratio of medians.
const perRound = (kind: Kind, over: Who) => {
  const a = samples[`${kind}.wrk.atrad.rps`] ?? [];
  const o = samples[`${kind}.wrk.${over}.rps`] ?? [];
  return median(a.map((x, i) => x / (o[i] ?? Number.NaN)));
};
lines.push(
  `per-round medians: ${KINDS.map((k) => `${k} atrad/bare ${f(perRound(k, "bare") * 100, 1)} % (atrad/barejs ${f(perRound(k, "barejs") * 100, 1)} %, atrad/barenode ${f(perRound(k, "barenode") * 100, 1)} %)`).join(", ")}` +
    (PEER ? `, openai atrad/peer ${f(perRound("openai", "peer"), 1)}×, atrad/claudish ${f(perRound("openai", "claudish"), 0)}×` : ""),
);
lines.push("");
lines.push("Relay of one 10,000-delta stream (events/s out of each)");
for (const kind of KINDS)
  lines.push(
    `${kind.padEnd(10)} direct ${f(m(`${kind}.relay.direct`), 0)}  atrad ${f(m(`${kind}.relay.atrad`), 0)} (${m(`${kind}.relay.atrad.events`)} events)` +
      (kind === "openai" && PEER ? `  peer ${f(m(`${kind}.relay.peer`), 0)} (${m(`${kind}.relay.peer.events`)} events)  claudish ${f(m(`${kind}.relay.claudish`), 0)} (${m(`${kind}.relay.claudish.events`)} events)` : ""),
  );
lines.push("");
lines.push(
  `Memory (MB): atrad RSS at start ${f(idle.atrad_start!, 1)}, idle after warm-up ${f(idle.atrad!, 1)}, idle after the run ${f(idle.atrad_after!, 1)}, peak under 256 streams ${f(mem256.atrad!.peakMb, 1)} (${mem256.atrad!.requests} ok, ${mem256.atrad!.errors} errors), VmHWM ${f(hwm.atrad, 1)}`,
);
lines.push(
    `             atrad, fresh daemon (each kind served once): RSS ${f(idle.atrad_fresh_served!, 1)}, peak under 256 streams ${f(mem256.atrad_fresh!.peakMb, 1)} (${mem256.atrad_fresh!.requests} ok, ${mem256.atrad_fresh!.errors} errors)`,
  );
if (peer)
  lines.push(
    `             peer  RSS at start ${f(idle.peer_start!, 1)}, idle after warm-up ${f(idle.peer!, 1)}, peak under 256 streams ${f(mem256.peer!.peakMb, 1)} (${mem256.peer!.requests} ok, ${mem256.peer!.errors} errors), VmHWM ${f(hwm.peer!, 1)}`,
  );
if (claudish)
  lines.push(
    `         claudish  RSS at start ${f(idle.claudish_start!, 1)}, idle after warm-up ${f(idle.claudish!, 1)}, peak under 256 streams ${f(mem256.claudish!.peakMb, 1)} (${mem256.claudish!.requests} ok, ${mem256.claudish!.errors} errors), VmHWM ${f(hwm.claudish!, 1)}`,
  );
lines.push(
  `Idle CPU (share of one core): default-config daemon probing 5 services ${f(idleCpu.atrad_default_config * 100, 2)} % (RSS ${f(idleDefaultRssMb, 1)} MB), bench daemon after the run ${f(idleCpu.atrad_bench_config * 100, 2)} %`,
);
lines.push("");
lines.push(`Start-up (hyperfine -N, median ms): ${Object.entries(startup).map(([k, v]) => `${k} ${f(v.median_ms, 1)}`).join(", ")}`);
lines.push(
  `Start-up in alternating pairs (median ms; status − version per pair): fresh ${f(pairs.fresh.version_ms, 1)} / ${f(pairs.fresh.status_ms, 1)} (+${f(pairs.fresh.status_minus_version_ms, 1)}), ` +
    `after ${servedBeforeStatus.toLocaleString("en")} requests served ${f(pairs.after_load.version_ms, 1)} / ${f(pairs.after_load.status_ms, 1)} (+${f(pairs.after_load.status_minus_version_ms, 1)})`,
);
if (Object.keys(errorsSeen).length) lines.push(`\nErrors seen: ${JSON.stringify(errorsSeen)}`);
console.log(lines.join("\n"));

mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(
  join(root, "bench/results/latest.json"),
  JSON.stringify({ at: new Date().toISOString(), quick: QUICK, rounds: ROUNDS, samples, idle, idleCpu, idleDefaultRssMb, mem256, hwm, startup, pairs, servedBeforeStatus, errors: errorsSeen, report: lines }, null, 1),
);

cleanup();
if (PROFILE_DIR) {
  // bun writes the profile on a clean exit: give it a moment after SIGTERM.
  await atrad.exited;
}
rmSync(tmp, { recursive: true, force: true });
process.exit(0);
