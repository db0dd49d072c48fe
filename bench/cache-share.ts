/**
 * `bun bench/cache-share.ts [--no-peer]` — how much of each prompt a local server can serve from
 * its prefix cache, per path, over ONE real Claude Code session.
 *
 * The session (test/support/session-script.ts: Write → Read → Bash → Edit → a subagent → answer,
 * then a `--continue` turn) runs once with the real Claude Code CLI through atrad's openai kind,
 * behind a recording proxy. Its captured requests are then replayed, in order and with their
 * session/agent/class headers, through each path to a stand-in that renders the prompt with its
 * server's template and models a two-slot prefix cache (test/standins/prefix-cache.ts):
 * atrad's openai, ollama and anthropic kinds and prompt tools, Claude Code → Ollama's native
 * API directly, and claude-code-router 2.0.0 (installed into bench/.peer/ by run.ts; skipped
 * with --no-peer or when it is not installed). Printed per path: prompts, the share served from
 * the cache after each slot's first prompt, the smallest single share, the prompt size, and how
 * many of Claude Code's mid-conversation notes never reached the model.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PrefixCache } from "../test/standins/prefix-cache.ts";
import { notes, providerToml, replay, runSession, standIn, stopAll, type Captured, type Kind } from "../test/support/claude-session.ts";
import { startTestDaemon } from "../test/support/daemon.ts";

const root = resolve(import.meta.dir, "..");
const PEER = !process.argv.includes("--no-peer");
const log = (s: string) => process.stderr.write(s + "\n");

interface Row {
  path: string;
  prompts: number;
  share: number;
  min: number;
  tokens: number;
  lostNotes: number;
  notes: number;
}

function row(path: string, cache: PrefixCache, prompts: string[], captured: readonly Captured[]): Row {
  const later = cache.figures.filter((f) => !f.first);
  const all = captured.flatMap((c) => notes(c.body));
  const lost = all.filter((t) => !prompts.some((p) => p.includes(t.trim())));
  return {
    path,
    prompts: cache.figures.length,
    share: cache.share(),
    min: Math.min(...later.map((f) => f.cached / f.prompt)),
    tokens: Math.round(cache.figures.reduce((n, f) => n + f.prompt, 0) / Math.max(1, cache.figures.length)),
    lostNotes: new Set(lost).size,
    notes: new Set(all).size,
  };
}

async function throughAtrad(kind: Kind, captured: readonly Captured[], cwd: string): Promise<Row> {
  const cache = new PrefixCache(2);
  const upstream = standIn(kind, cwd, cache);
  const atrad = await startTestDaemon(`${providerToml(kind, upstream.url)}[routes]\ndefault = ["local/qwen"]\n`);
  try {
    await replay(atrad.url, captured);
    return row(`atrad ${kind === "prompt" ? "prompt tools" : `${kind} kind`}`, cache, upstream.prompts(), captured);
  } finally {
    await atrad.stop();
  }
}

async function direct(captured: readonly Captured[], cwd: string): Promise<Row> {
  const cache = new PrefixCache(2);
  const upstream = standIn("anthropic", cwd, cache);
  await replay(upstream.url, captured, "qwen");
  return row("Claude Code → Ollama directly", cache, upstream.prompts(), captured);
}

async function peer(captured: readonly Captured[], cwd: string): Promise<Row | undefined> {
  const cli = join(root, "bench/.peer/node_modules/@musistudio/claude-code-router/dist/cli.js");
  if (!existsSync(cli)) {
    log("claude-code-router is not installed in bench/.peer (bun run bench installs it): skipped");
    return undefined;
  }
  const cache = new PrefixCache(2);
  const upstream = standIn("openai", cwd, cache);
  const home = mkdtempSync(join(tmpdir(), "atrad-cache-peer-"));
  const port = 30000 + Math.floor(Math.random() * 20000);
  mkdirSync(join(home, ".claude-code-router"), { recursive: true });
  writeFileSync(
    join(home, ".claude-code-router/config.json"),
    JSON.stringify({ LOG: false, PORT: port, Providers: [{ name: "stand", api_base_url: `${upstream.url}/v1/chat/completions`, api_key: "x", models: ["qwen"] }], Router: { default: "stand,qwen" } }),
  );
  const proc = Bun.spawn(["node", cli, "start"], { env: { ...process.env, HOME: home }, stdout: "ignore", stderr: "ignore" });
  try {
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 300; i++) {
      if (await fetch(url).then(() => true, () => false)) break;
      await Bun.sleep(100);
    }
    await replay(url, captured, "stand,qwen");
    return row("claude-code-router 2.0.0", cache, upstream.prompts(), captured);
  } finally {
    proc.kill();
  }
}

try {
  log("running one real Claude Code session through atrad's openai kind…");
  const session = await runSession("openai");
  if (session.runs.some((r) => r.exitCode !== 0)) throw new Error(`the session failed: ${JSON.stringify(session.runs)}`);
  const captured = session.captured;
  log(`captured ${captured.length} requests; replaying through each path`);
  const rows: Row[] = [];
  for (const kind of ["openai", "ollama", "anthropic", "prompt"] as const) rows.push(await throughAtrad(kind, captured, session.cwd));
  rows.push(await direct(captured, session.cwd));
  if (PEER) {
    const p = await peer(captured, session.cwd);
    if (p) rows.push(p);
  }
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  console.log("path                              prompts  cached after a slot's first  lowest  avg prompt  notes lost");
  for (const r of rows) console.log(`${r.path.padEnd(33)} ${String(r.prompts).padStart(7)}  ${pct(r.share).padStart(27)}  ${pct(r.min).padStart(6)}  ${String(r.tokens).padStart(10)}  ${`${r.lostNotes} of ${r.notes}`.padStart(10)}`);
} finally {
  await stopAll();
}
