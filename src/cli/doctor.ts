/**
 * `atrad doctor`: one line per check, and for every failure the command that fixes it, in this
 * platform's terms. Exit 1 only when one of atrad's own duties fails — its service, its port,
 * its config, its routes, some model to serve; a missing optional tool (Claude Code, the MLX
 * server) is a warning — so scripts can gate on it.
 */
import { ROUTE_KEYS } from "../config/schema.ts";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig, type Config, type Provider } from "../config/load.ts";
import { probeHealth } from "../platform/health.ts";
import { LABEL, UNIT, type Layout } from "../platform/layout.ts";
import { isAlive, readPid } from "../platform/pidfile.ts";
import { runCommand } from "../platform/runner.ts";
import { specOf } from "../providers/index.ts";
import { plainCause } from "../wire/cause.ts";
import { parseTarget } from "../router/resolve.ts";
import type { Input } from "./command.ts";
import { checkLastSessionCache, checkWindows } from "./doctor-cache.ts";
import type { CliIO } from "./io.ts";
import { serviceContext } from "./service.ts";

export type Level = "ok" | "warn" | "fail";
export interface Check {
  name: string;
  level: Level;
  detail: string;
  fix?: string;
}

const ok = (name: string, detail: string): Check => ({ name, level: "ok", detail });
const warn = (name: string, detail: string, fix?: string): Check => ({ name, level: "warn", detail, fix });
const fail = (name: string, detail: string, fix: string): Check => ({ name, level: "fail", detail, fix });

/** Ollama serves /v1/messages from 0.14 on. */
export const MIN_OLLAMA = [0, 14, 0] as const;
const LOG_WARN_BYTES = 256 * 1024 * 1024;
type Env = Record<string, string | undefined>;

async function getJson(url: string, timeoutMs = 2000): Promise<{ status: number; body: any } | { error: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    try {
      return { status: res.status, body: JSON.parse(text) };
    } catch {
      return { status: res.status, body: text };
    }
  } catch (err) {
    return { error: plainCause(err) };
  }
}

type Platform = Layout["platform"];

/** How to start and upgrade Ollama here: Homebrew on macOS, Ollama's own service on Linux. */
export function ollamaFixes(platform: Platform): { start: string; upgrade: string } {
  if (platform === "darwin") return { start: "brew services start ollama   (or: ollama serve)", upgrade: "brew upgrade ollama" };
  return { start: "ollama serve   (installed as a service: sudo systemctl start ollama)", upgrade: "curl -fsSL https://ollama.com/install.sh | sh" };
}

export function versionAtLeast(version: string, min: readonly number[]): boolean {
  const parts = version.replace(/^v/, "").split(/[.-]/).map((p) => Number.parseInt(p, 10));
  for (let i = 0; i < min.length; i++) {
    const v = Number.isNaN(parts[i] ?? Number.NaN) ? 0 : parts[i]!;
    if (v !== min[i]) return v > min[i]!;
  }
  return true;
}

async function checkService(l: Layout, env: Env): Promise<Check> {
  const name = "service";
  if (l.manager === "launchd") {
    if (!existsSync(l.serviceFile!)) return fail(name, `not installed (${l.serviceFile} missing)`, "atrad install");
    const r = await runCommand(["launchctl", "print", `gui/${l.uid}/${LABEL}`], env, 5000);
    return r.code === 0 ? ok(name, `launchd job ${LABEL} loaded`) : fail(name, `${LABEL} is installed but not loaded`, "atrad start");
  }
  if (l.manager === "systemd") {
    if (!existsSync(l.serviceFile!)) return fail(name, `not installed (${l.serviceFile} missing)`, "atrad install");
    const enabled = (await runCommand(["systemctl", "--user", "is-enabled", UNIT], env, 5000)).code === 0;
    const active = (await runCommand(["systemctl", "--user", "is-active", UNIT], env, 5000)).code === 0;
    if (enabled && active) return ok(name, `systemd --user ${UNIT} enabled and active`);
    return fail(name, `${UNIT} is ${enabled ? "enabled" : "not enabled"} and ${active ? "active" : "not active"}`, enabled ? "atrad start" : "atrad install");
  }
  const pid = readPid(l.pidFile);
  if (pid && isAlive(pid)) return warn(name, `no service manager here; atrad runs in the background (pid ${pid}) and won't start at login`);
  return warn(name, "no service manager here (container/CI) and no background atrad running", "atrad start");
}

async function checkPort(url: string, port: number): Promise<Check> {
  const name = `port ${port}`;
  const h = await probeHealth(url);
  if (h.state === "atrad") return ok(name, `atrad ${h.version} answers at ${url} (up ${h.uptimeS} s)`);
  if (h.state === "other") return fail(name, `something that is not atrad answers at ${url}: ${h.detail}`, `find it: lsof -nP -iTCP:${port} -sTCP:LISTEN — stop it (the old Python proxy?) or set [server] port`);
  return fail(name, `nothing answers at ${url}`, "atrad start");
}

async function checkOllama(config: Config, platform: Platform): Promise<Check> {
  const p = config.providers.find((x) => x.name === "ollama");
  if (!p) return ok("ollama", "no provider named ollama configured");
  const url = p.urls[0]!;
  const r = await getJson(`${url}/api/version`);
  const fixes = ollamaFixes(platform);
  // Down is a warning here: whether atrad has anything to serve is the "models" check's verdict.
  if ("error" in r) return warn("ollama", `not reachable at ${url}: ${r.error}`, fixes.start);
  const version = typeof r.body?.version === "string" ? r.body.version : undefined;
  if (!version) return fail("ollama", `${url}/api/version answered HTTP ${r.status} without a version: not Ollama?`, `check [providers.ollama] url in ${config.file}`);
  if (!versionAtLeast(version, MIN_OLLAMA))
    return fail("ollama", `Ollama ${version} at ${url} predates /v1/messages (needs ≥ ${MIN_OLLAMA.join(".")})`, `${fixes.upgrade}   (or set [providers.ollama] kind = "ollama")`);
  return ok("ollama", `Ollama ${version} at ${url}`);
}

/**
 * Every model the provider's hosts list, asked the way its kind asks (the router's catalog
 * does the same), and whether a host is Ollama (then `ollama pull` is the fix for a missing model).
 */
async function upstreamModels(p: Provider): Promise<{ models: Set<string>; reached: boolean; ollama: boolean; error?: string }> {
  const models = new Set<string>();
  let reached = false;
  let ollama = false;
  let error: string | undefined;
  for (const url of p.urls) {
    const [listed, version] = await Promise.all([
      specOf(p)
        .listModels(p, url, AbortSignal.timeout(5000))
        .catch((err: unknown) => ((error = plainCause(err)), undefined)),
      getJson(`${url}/api/version`),
    ]);
    if (listed) {
      reached = true;
      for (const m of listed) models.add(m);
    }
    if (!("error" in version) && typeof version.body?.version === "string") ollama = true;
  }
  return { models, reached, ollama, error };
}

type ModelCache = Map<string, ReturnType<typeof upstreamModels>>;
const modelsOf = (p: Provider, cache: ModelCache) => {
  if (!cache.has(p.name)) cache.set(p.name, upstreamModels(p));
  return cache.get(p.name)!;
};

/**
 * Whether atrad has anything to serve: some provider lists at least one model, or one that
 * cannot list models (victoria) at least answers HTTP.
 */
async function checkSomeModel(config: Config, cache: ModelCache, platform: Platform): Promise<Check> {
  const listing = config.providers.filter((p) => specOf(p).capabilities.listsModels);
  const unlisted = config.providers.filter((p) => !listing.includes(p));
  const [found, answering] = await Promise.all([
    Promise.all(listing.map(async (p) => [p, await modelsOf(p, cache)] as const)),
    Promise.all(unlisted.map(async (p) => [p, await getJson(p.urls[0]!)] as const)),
  ]);
  const serving = [
    ...found.filter(([, up]) => up.models.size > 0).map(([p, up]) => `${p.name}: ${up.models.size} model${up.models.size > 1 ? "s" : ""}`),
    ...answering.filter(([, r]) => !("error" in r)).map(([p]) => `${p.name} answers (it lists no models)`),
  ];
  if (serving.length) return ok("models", serving.join(", "));
  const why = [
    ...found.map(([p, up]) => (up.reached ? `${p.name} has no model` : (up.error ?? `${p.name} not reachable at ${p.urls.join(", ")}`))),
    ...answering.map(([p, r]) => `${p.name} not reachable at ${p.urls[0]}${"error" in r ? ` (${r.error})` : ""}`),
  ];
  const detail = `no model to serve: ${why.join("; ") || "no provider is configured"}`;
  const ollama = found.find(([p, up]) => p.name === "ollama" && up.reached);
  return fail("models", detail, ollama ? "ollama pull qwen2.5-coder:7b   (any model will do)" : `start a provider (${ollamaFixes(platform).start}), or configure one in ${config.file}`);
}

async function checkRoutes(config: Config, cache: ModelCache): Promise<Check[]> {
  const entries: Array<[string, string[]]> = [];
  for (const key of ROUTE_KEYS) {
    const targets = config.routes[key];
    if (targets?.length) entries.push([key, targets]);
  }
  for (const [alias, targets] of Object.entries(config.routes.aliases)) entries.push([`aliases.${alias}`, targets]);
  if (!entries.length) return [ok("routes", "no [routes] configured: atrad picks installed models itself (atrad config init writes the choice down)")];

  const out: Check[] = [];
  for (const [key, targets] of entries) {
    for (const spec of targets) {
      const t = parseTarget(spec);
      const name = `route ${key}: ${spec}`;
      const p = config.providers.find((x) => x.name === t.provider);
      if (!p) {
        out.push(fail(name, `no provider named ${t.provider}`, `edit [routes] in ${config.file}`));
        continue;
      }
      if (!t.model || !specOf(p).capabilities.listsModels) {
        out.push(ok(name, `${p.kind} provider, no model to check`));
        continue;
      }
      const up = await modelsOf(p, cache);
      if (!up.reached) out.push(fail(name, `${p.name} is not reachable at ${p.urls.join(", ")}${up.error ? ` (${up.error})` : ""}`, `start ${p.name}, or edit [providers.${p.name}] in ${config.file}`));
      else if (up.models.has(t.model) || up.models.has(`${t.model}:latest`)) out.push(ok(name, `installed on ${p.name}`));
      else
        out.push(
          fail(name, `${p.name} has no model "${t.model}" (has: ${[...up.models].slice(0, 6).join(", ") || "none"})`, up.ollama ? `ollama pull ${t.model}` : `edit [routes] in ${config.file}`),
        );
    }
  }
  return out;
}

/** Who answers on the MLX port: the ATRA MLX server, or Ollama's Claude Desktop gateway (≥ 0.33). */
async function checkMlxPort(config: Config, env: Env): Promise<Check> {
  const svc = config.services.find((s) => s.name === "mlx");
  const base = svc?.health ? new URL(svc.health).origin : (config.providers.find((p) => p.name === "mlx")?.urls[0] ?? "http://127.0.0.1:11435");
  const port = svc?.port ?? Number(new URL(base).port);
  const name = `port ${port}`;
  const owner = await listener(port, env);
  const health = await getJson(`${base}/health`);
  if ("error" in health) return warn(name, `nothing answers at ${base}${owner ? ` (held by ${owner})` : ""}: the MLX server is not running`, "start the MLX server (or disable [services.mlx])");
  const status = health.body?.status;
  if (["healthy", "warning", "degraded", "critical"].includes(status))
    return status === "critical" ? warn(name, `ATRA MLX server, status critical`, "see the MLX server's log") : ok(name, `ATRA MLX server (status ${status})${owner ? `, process ${owner}` : ""}`);
  const version = await getJson(`${base}/api/version`);
  if (!("error" in version) && typeof version.body?.version === "string")
    return fail(name, `Ollama ${version.body.version} holds ${port} (its Claude Desktop gateway), not the MLX server`, `move the MLX server to another port and set [providers.mlx] url and [services.mlx] health`);
  return fail(name, `something else holds ${port}${owner ? ` (${owner})` : ""}: /health answered ${JSON.stringify(health.body).slice(0, 60)}`, `lsof -nP -iTCP:${port} -sTCP:LISTEN`);
}

/** The listening process's name via lsof, when lsof exists; best effort. */
async function listener(port: number, env: Env): Promise<string | undefined> {
  if (!Bun.which("lsof", { PATH: env.PATH ?? "" })) return undefined;
  const r = await runCommand(["lsof", "-nP", `-iTCP:${port}`, "-sTCP:LISTEN", "-Fpc"], env, 5000);
  const pid = /^p(\d+)/m.exec(r.stdout)?.[1];
  const cmd = /^c(.+)$/m.exec(r.stdout)?.[1];
  return pid ? `${cmd ?? "?"} pid ${pid}` : undefined;
}

/** Claude Code is atrad's main client but not atrad's duty: missing, it is a warning. */
async function checkClaude(env: Env): Promise<Check> {
  const install = "npm install -g @anthropic-ai/claude-code";
  if (!Bun.which("claude", { PATH: env.PATH ?? "" })) return warn("claude code", "`claude` is not on PATH (atrad serves any Messages API client; `atrad launch claude` needs it)", install);
  const r = await runCommand(["claude", "--version"], env, 15_000);
  return r.code === 0 ? ok("claude code", r.stdout.trim().split("\n")[0] ?? "installed") : warn("claude code", `claude --version failed (exit ${r.code})`, install);
}

function checkLogs(l: Layout): Check {
  const files: Array<[string, number]> = [];
  for (const dir of new Set([l.logDir, join(l.atradHome, "logs")])) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) {
      const s = statSync(join(dir, f), { throwIfNoEntry: false });
      if (s?.isFile()) files.push([join(dir, f), s.size]);
    }
  }
  if (!files.length) return ok("logs", "no log files yet");
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  const big = files.filter(([, size]) => size > LOG_WARN_BYTES);
  const detail = files.map(([f, size]) => `${f} ${mb(size)}`).join(", ");
  return big.length ? warn("logs", detail, `nothing rotates them: truncate with  : > ${big[0]![0]}`) : ok("logs", detail);
}

export async function runDoctor(io: CliIO): Promise<Check[]> {
  let config: Config;
  try {
    config = loadConfig({ env: io.env });
  } catch (err) {
    if (err instanceof ConfigError) return [fail("config", err.message, `fix the keys above in ${err.file} (atrad config check)`)];
    throw err;
  }
  const { layout } = await serviceContext(io);
  const url = `http://127.0.0.1:${config.server.port}`;
  const checks: Check[] = [ok("config", config.fileExists ? config.file : "no config file: defaults")];
  checks.push(await checkService(layout, io.env));
  checks.push(await checkPort(url, config.server.port));
  const cache: ModelCache = new Map();
  checks.push(await checkOllama(config, layout.platform));
  checks.push(await checkSomeModel(config, cache, layout.platform));
  checks.push(...(await checkRoutes(config, cache)));
  checks.push(...(await checkWindows(config)));
  checks.push(await checkMlxPort(config, io.env));
  checks.push(await checkClaude(io.env));
  checks.push(checkLogs(layout));
  checks.push(checkLastSessionCache(layout.atradHome));
  return checks;
}

export async function doctorCommand(_input: Input<{}>, io: CliIO): Promise<number> {
  const checks = await runDoctor(io);
  const mark = { ok: "ok  ", warn: "warn", fail: "FAIL" } as const;
  for (const c of checks) io.out(`${mark[c.level]}  ${c.name}: ${c.detail}\n${c.fix ? `      fix: ${c.fix}\n` : ""}`);
  const failed = checks.filter((c) => c.level === "fail").length;
  io.out(failed ? `${failed} check${failed > 1 ? "s" : ""} failed\n` : "all checks passed\n");
  return failed ? 1 : 0;
}
