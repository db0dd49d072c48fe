/**
 * Resting weight: the daemon's RSS at start, after it has served every kind once (anthropic,
 * openai, ollama, victoria — each streaming and not — plus count_tokens), and at rest after.
 * The stand-ins are the test suite's, served from this process; the daemon is its own process,
 * read from /proc.
 *
 *   bun bench/rss.ts                  # the source daemon (bun src/main.ts serve)
 *   bun bench/rss.ts --binary PATH    # a compiled atrad
 *   bun bench/rss.ts --root DIR       # the source daemon of another checkout (before/after)
 *   bun bench/rss.ts --rest 20        # seconds to rest before the first reading at rest (default 10)
 *   bun bench/rss.ts --settle 60      # and before the second (default 45: after the daemon's
 *                                     # quiet-spell release, src/daemon/idle-release.ts, at 30 s)
 *   bun bench/rss.ts --burst 3        # then 3 s of load (8 connections, the same request,
 *                                     # streaming) per translated kind, and another rest
 *
 * Each reading is split into anonymous RSS (here the same as the private dirty pages: what this
 * process alone holds, and what macOS's phys_footprint counts) and file-backed RSS (clean pages
 * of the executable, which macOS leaves out of that figure).
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startCounting } from "../test/standins/counting.ts";
import { startOpenAIStandIn } from "../test/standins/mlx-lm.ts";
import { startOllamaChatStandIn } from "../test/standins/ollama-chat.ts";
import { startVictoriaStandIn } from "../test/standins/victoria.ts";
import { runLoad } from "./client.ts";

const { values } = parseArgs({ options: { binary: { type: "string" }, root: { type: "string" }, rest: { type: "string" }, settle: { type: "string" }, burst: { type: "string" } } });
const root = resolve(values.root ?? join(import.meta.dir, ".."));
const restS = Number(values.rest ?? 10);
const settleS = Math.max(restS, Number(values.settle ?? 45));

const statusMb = (pid: number, key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
const rssMb = (pid: number) => statusMb(pid, "VmRSS");
/** RSS split: anonymous (heaps, JIT code) and file-backed (the executable's pages it has touched). */
const split = (pid: number) => `anon ${statusMb(pid, "RssAnon").toFixed(1)} + file ${statusMb(pid, "RssFile").toFixed(1)}`;

const anthropic = startCounting("a");
const openai = startOpenAIStandIn({ flavor: "mlx", models: ["m"] });
const ollama = startOllamaChatStandIn({ models: ["m"] });
const victoria = startVictoriaStandIn();

const home = mkdtempSync(join(tmpdir(), "atrad-rss-"));
const port = await new Promise<number>((ok) => {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  ok(s.port);
  s.stop(true);
});
const off = ["ollama", "mlx", "victoria", "veronica", "knowledge_os"].map((n) => `[services.${n}]\nenabled = false\n`).join("");
writeFileSync(
  join(home, "config.toml"),
  `[server]\nport = ${port}\n` +
    `[providers.a]\nkind = "anthropic"\nurl = "${anthropic.url}"\nmodels = ["m"]\n` +
    `[providers.o]\nkind = "openai"\nurl = "${openai.url}"\nmodels = ["m"]\n` +
    `[providers.l]\nkind = "ollama"\nurl = "${ollama.url}"\nmodels = ["m"]\n` +
    `[providers.v]\nkind = "victoria"\nurl = "${victoria.url}"\n` +
    `[routes]\ndefault = ["a/m"]\n${off}`,
);
const cmd = values.binary ? [resolve(values.binary), "serve"] : [process.execPath, join(root, "src/main.ts"), "serve"];
const daemon = Bun.spawn([...cmd, "--config", join(home, "config.toml")], { env: { ...process.env, ATRAD_HOME: home, HOME: home }, stdout: "ignore", stderr: "ignore" });
const url = `http://127.0.0.1:${port}`;

try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {}
    if (i > 200) throw new Error("the daemon did not come up");
    await Bun.sleep(50);
  }
  await Bun.sleep(1000);
  const readings: Array<[string, number]> = [["start", rssMb(daemon.pid)]];
  const splits: string[] = [split(daemon.pid)];

  // A Claude Code-sized conversation: its real request, so the translators see real content.
  const fixture = JSON.parse(readFileSync(join(import.meta.dir, "../test/fixtures/claude-code-2.1.330-request.json"), "utf8")).body;
  const post = async (path: string, body: object) => {
    const res = await fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" }, body: JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${path} ${JSON.stringify(body).slice(0, 60)}: HTTP ${res.status} ${text.slice(0, 200)}`);
  };
  for (const [kind, model] of [["anthropic", "a/m"], ["openai", "o/m"], ["ollama", "l/m"], ["victoria", "v/team-lead"]] as const) {
    for (const stream of [false, true]) await post("/v1/messages", { ...fixture, model, stream, max_tokens: 64 });
    readings.push([`after ${kind}`, rssMb(daemon.pid)]);
    splits.push(split(daemon.pid));
  }
  await post("/v1/messages/count_tokens", { model: "a/m", system: fixture.system, messages: fixture.messages, tools: fixture.tools });
  readings.push(["after count_tokens", rssMb(daemon.pid)]);
  splits.push(split(daemon.pid));
  await Bun.sleep(restS * 1000);
  readings.push([`resting ${restS} s later`, rssMb(daemon.pid)]);
  splits.push(split(daemon.pid));
  await Bun.sleep((settleS - restS) * 1000);
  readings.push([`resting ${settleS} s later`, rssMb(daemon.pid)]);
  splits.push(split(daemon.pid));
  if (values.burst) {
    // Load, as a busy session or a benchmark leaves it: what stays after it, and after a rest.
    const port = Number(new URL(url).port);
    for (const model of ["o/m", "l/m"]) await runLoad({ port, path: "/v1/messages", body: JSON.stringify({ ...fixture, model, stream: true, max_tokens: 64 }), headers: { "anthropic-version": "2023-06-01" }, connections: 8, durationMs: Number(values.burst) * 1000 });
    readings.push([`after ${values.burst} s bursts`, rssMb(daemon.pid)]);
    splits.push(split(daemon.pid));
    await Bun.sleep(settleS * 1000);
    readings.push([`rested ${settleS} s after`, rssMb(daemon.pid)]);
    splits.push(split(daemon.pid));
  }

  console.log(`atrad RSS (${values.binary ? `binary ${values.binary}` : `source ${root}`}), MB:`);
  readings.forEach(([what, mb], i) => console.log(`  ${what.padEnd(24)} ${mb.toFixed(1)}  (${splits[i]})`));
  console.log(JSON.stringify(Object.fromEntries(readings.map(([k, v]) => [k, Math.round(v * 10) / 10]))));
} finally {
  daemon.kill("SIGKILL");
  await Promise.all([anthropic.stop(), openai.stop(), ollama.stop(), victoria.stop()]);
}
