/**
 * The relay's cost against the runtime's floors, and nothing else: the stand-in, the two
 * pass-through proxies (Bun.serve and node:http) and one atrad, with wrk's streaming load
 * alternating between them round by round. Each ratio is taken per round, then the median.
 *   bun bench/relay.ts [--binary PATH] [--tree DIR]… [--rounds N] [--seconds S] [--warm S] [--kinds anthropic,openai] [--cpu-prof DIR]
 * Without --binary atrad runs from source (src/main.ts); `--cpu-prof DIR` runs it under
 * `bun --cpu-prof` (summarise with bench/profile-summary.ts). Each `--tree DIR` adds another
 * atrad run from that checkout's source (e.g. `git archive` of the commit before a change), or
 * a compiled atrad when DIR is a file,
 * measured in the same rounds: a before/after pair on the same machine at the same time.
 * `bun run bench` is the full report; this is the quick loop for one change at a time.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { benchConfig } from "./config.ts";

const root = resolve(import.meta.dir, "..");
const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const BINARY = option("--binary");
const PROFILE_DIR = option("--cpu-prof");
const ROUNDS = Number(option("--rounds") ?? 3);
const SECONDS = Number(option("--seconds") ?? 2);
type Kind = "anthropic" | "openai" | "ollama";
const KINDS = (option("--kinds") ?? "anthropic,openai,ollama").split(",") as Kind[];
const CONNECTIONS = Number(option("--connections") ?? 64);
const WARM_S = Number(option("--warm") ?? 1);
const TREES = args.flatMap((a, i) => (a === "--tree" ? [resolve(args[i + 1]!)] : []));

const children: Subprocess[] = [];
const tmp = mkdtempSync(join(tmpdir(), "atrad-relay-"));
const cleanup = () => children.forEach((c) => c.kill("SIGTERM"));
process.on("SIGINT", () => {
  cleanup();
  process.exit(130);
});

function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}
async function waitFor(url: string) {
  for (let i = 0; i < 300; i++) {
    try {
      await (await fetch(url)).arrayBuffer();
      return;
    } catch {
      await Bun.sleep(50);
    }
  }
  throw new Error(`${url} did not come up`);
}
function spawn(cmd: string[], env: Record<string, string | undefined> = {}): Subprocess {
  const p = Bun.spawn(cmd, { cwd: root, env: { ...process.env, ...env }, stdout: "ignore", stderr: Bun.file(join(tmp, `${children.length}.log`)) });
  children.push(p);
  return p;
}

const standin = freePort();
/** The floors, each a pass-through proxy on the same stand-in: what the runtime costs before any work of atrad's. */
const FLOORS = {
  bare: "bench/bare-proxy.ts", // Bun.serve, the upstream body handed to the response natively
  barejs: "bench/bare-js-proxy.ts", // Bun.serve, the upstream body read and written in JS
  barenode: "bench/bare-node-proxy.ts", // node:http, read and written in JS
} as const;
type Floor = keyof typeof FLOORS;
const floorPort = Object.fromEntries(Object.keys(FLOORS).map((k) => [k, freePort()])) as Record<Floor, number>;
const up = `http://127.0.0.1:${standin}`;
spawn(["bun", "bench/standin.ts", String(standin)]);
await waitFor(`${up}/`);
const pids: Record<string, number> = {};
for (const [floor, script] of Object.entries(FLOORS)) pids[floor] = spawn(["bun", script, String(floorPort[floor as Floor]), up]).pid;
const config = (port: number) => benchConfig(port, up);
/** One atrad daemon on its own home and port: this tree's source, or the binary. */
function startAtrad(label: string, cmd: string[]): { label: string; port: number; proc: Subprocess } {
  const port = freePort();
  const home = join(tmp, `home-${label.replace(/\W/g, "_")}`);
  mkdirSync(home);
  writeFileSync(join(home, "config.toml"), config(port));
  return { label, port, proc: spawn(cmd, { ATRAD_HOME: home, ATRAD_CONFIG: undefined, ATRAD_PORT: undefined, ATRAD_HOST: undefined }) };
}
const prof = PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${resolve(PROFILE_DIR)}`] : [];
const atrads = [
  startAtrad("atrad", BINARY ? [resolve(BINARY), "serve"] : ["bun", ...prof, join(root, "src/main.ts"), "serve"]),
  // A file is a compiled atrad; a directory, a checkout run from its source.
  ...TREES.map((dir) => startAtrad(dir.split("/").pop()!, statSync(dir).isFile() ? [dir, "serve"] : ["bun", join(dir, "src/main.ts"), "serve"])),
];
for (const port of Object.values(floorPort)) await waitFor(`http://127.0.0.1:${port}/`);
for (const a of atrads) {
  await waitFor(`http://127.0.0.1:${a.port}/health`);
  pids[a.label] = a.proc.pid;
}
/** CPU time (ms) a process has used so far, user + system: steadier than req/s on a shared machine. */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

const anthropicBody = (model: string) => JSON.stringify({ model, max_tokens: 100, stream: true, messages: [{ role: "user", content: "hi" }] });
const chatBody = JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] });
const floorPath: Record<Kind, [string, string]> = {
  anthropic: ["/v1/messages", anthropicBody("m")],
  openai: ["/v1/chat/completions", chatBody],
  ollama: ["/api/chat", chatBody],
};
const atradModel: Record<Kind, string> = { anthropic: "ant/m", openai: "oai/m", ollama: "oll/m" };

function wrk(port: number, path: string, body: string, seconds: number): { rps: number; requests: number; errors: number } {
  const r = Bun.spawnSync(["wrk", "-t2", `-c${CONNECTIONS}`, `-d${seconds}s`, "-s", join(root, "bench/post.lua"), `http://127.0.0.1:${port}${path}`], {
    env: { ...process.env, BENCH_BODY: body },
  });
  const out = r.stdout.toString();
  const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN), requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? Number.NaN), errors };
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const WHO = [...Object.keys(FLOORS), ...atrads.map((a) => a.label)];
const subject = (kind: Kind, who: string): [number, string, string] => {
  if (who in FLOORS) return [floorPort[who as Floor], ...floorPath[kind]];
  return [atrads.find((a) => a.label === who)!.port, "/v1/messages", anthropicBody(atradModel[kind])];
};

// Warm-up: every subject once, so JIT tiers and connection pools are in place before timing.
for (const kind of KINDS) for (const who of WHO) wrk(...subject(kind, who), 1);

const rps: Record<string, number[]> = {};
/** CPU µs per request of the process under load. */
const cpu: Record<string, number[]> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const kind of KINDS) {
    const order = round % 2 ? [...WHO].reverse() : WHO;
    for (const who of order) {
      // The daemon drops its compiled code after 5 s without requests (daemon/idle-release.ts),
      // and the others' turns are longer than that: a short unmeasured run first, so each
      // measured one is the steady state, not the JIT warming up again.
      if (WARM_S > 0 && !who.startsWith("bare")) wrk(...subject(kind, who), WARM_S);
      const before = cpuMs(pids[who]!);
      const r = wrk(...subject(kind, who), SECONDS);
      (cpu[`${kind}.${who}`] ??= []).push(((cpuMs(pids[who]!) - before) * 1000) / r.requests);
      if (r.errors) process.stderr.write(`${kind} ${who}: ${r.errors} non-2xx\n`);
      (rps[`${kind}.${who}`] ??= []).push(r.rps);
    }
  }
}
const f = (x: number, d = 0) => x.toFixed(d);
console.log(`relay bench: ${ROUNDS} rounds × ${SECONDS}s, wrk -c${CONNECTIONS}, atrad ${BINARY ? `binary ${BINARY}` : "from source"}${TREES.length ? ` vs ${TREES.join(", ")}` : ""}, ${new Date().toISOString()}`);
for (const kind of KINDS) {
  const ratio = (a: number[], over: number[]) => median(a.map((x, i) => x / over[i]!)) * 100;
  const b = rps[`${kind}.bare`]!;
  const floors = (Object.keys(FLOORS) as Floor[]).filter((k) => k !== "bare");
  const cols = atrads.map((a) => {
    const r = rps[`${kind}.${a.label}`]!;
    return `${a.label} ${f(median(r)).padStart(6)} (${(Object.keys(FLOORS) as Floor[]).map((k) => `${f(ratio(r, rps[`${kind}.${k}`]!), 1)} % of ${k}`).join(", ")})`;
  });
  console.log(`${kind.padEnd(9)} req/s  bare ${f(median(b)).padStart(6)}  ${floors.map((k) => `${k} ${f(median(rps[`${kind}.${k}`]!)).padStart(6)} (${f(ratio(rps[`${kind}.${k}`]!, b), 1)} %)`).join("  ")}  ${cols.join("  ")}`);
  // Floor CPU per request over atrad's: the throughput ratio atrad would reach if each had a core to itself.
  const cpuOf = (who: string) => median(cpu[`${kind}.${who}`]!);
  const costs = atrads.map((a) => {
    const c = cpuOf(a.label);
    return `${a.label} ${f(c, 1)} (${Object.keys(FLOORS).map((k) => `${k}/it ${f((cpuOf(k) / c) * 100, 1)} %`).join(", ")})`;
  });
  console.log(`${"".padEnd(9)} CPU µs/request  ${Object.keys(FLOORS).map((k) => `${k} ${f(cpuOf(k), 1)}`).join("  ")}  ${costs.join("  ")}`);
}
cleanup();
for (const a of atrads) await a.proc.exited;
rmSync(tmp, { recursive: true, force: true });
