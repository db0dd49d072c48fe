/**
 * `atrad launch claude [-- ARGS]`: make sure the daemon answers (login service, else a
 * background process), then run Claude Code against it — what the old
 * launch_claude_oll.sh / launch_claude_with_victoria.sh scripts did by hand.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/load.ts";
import { loadConfig } from "../config/load.ts";
import { selfCommand } from "../platform/detect.ts";
import { probeHealth } from "../platform/health.ts";
import { layoutFor } from "../platform/layout.ts";
import { runPlan } from "../platform/runner.ts";
import { planFor } from "../platform/service.ts";
import { autoTargets, formatTarget, parseTarget, tierOf, type Tier } from "../router/resolve.ts";
import { connectUrl } from "./client.ts";
import { daemonStatus, noModelMessage, whyNoModel } from "./launch-check.ts";
import { EXIT_NO_MODEL, type Input } from "./command.ts";
import type { CliIO } from "./io.ts";
import { serviceContext } from "./service.ts";

/** Sent when the config has no tokens: atrad on loopback accepts anything, Claude Code wants something. */
export const PLACEHOLDER_TOKEN = "atrad-local";

/**
 * The model name Claude Code should send for a tier. The bare tier name resolves through
 * atrad's router to that tier's route (with its fallbacks), else `default`, else the
 * automatic pick — unless a provider shares the name, when `atrad-<tier>` keeps that meaning.
 */
export function modelForTier(tier: Tier, config: Config): string {
  const clash = config.providers.some((p) => p.name === tier) || tier in config.routes.aliases;
  const name = clash ? `atrad-${tier}` : tier;
  if (tierOf(name) !== tier) throw new Error(`internal: ${name} does not resolve to ${tier}`);
  return name;
}

export function claudeEnv(config: Config, baseUrl: string): Record<string, string> {
  // Claude Code must not give up before atrad's own upstream timeout does.
  const timeoutMs = Math.max(600_000, ...config.providers.map((p) => p.timeout_s * 1000)) + 60_000;
  return {
    ANTHROPIC_BASE_URL: baseUrl,
    ANTHROPIC_AUTH_TOKEN: config.server.auth_tokens[0] ?? PLACEHOLDER_TOKEN,
    // Empty, so a key in the user's shell can't make Claude Code prefer it over the token.
    ANTHROPIC_API_KEY: "",
    ANTHROPIC_DEFAULT_OPUS_MODEL: modelForTier("opus", config),
    ANTHROPIC_DEFAULT_SONNET_MODEL: modelForTier("sonnet", config),
    ANTHROPIC_DEFAULT_HAIKU_MODEL: modelForTier("haiku", config),
    CLAUDE_CODE_SUBAGENT_MODEL: modelForTier("sonnet", config),
    // Claude Code then lists GET /v1/models in its /model picker (atrad publishes claude-… ids).
    CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY: "1",
    // The attribution header changes per request and would invalidate local KV/prompt caches.
    CLAUDE_CODE_ATTRIBUTION_HEADER: "0",
    // Label each request (main, subagent, compaction, auxiliary): atrad routes by it.
    CLAUDE_CODE_GATEWAY_HINT_HEADERS: "1",
    API_TIMEOUT_MS: String(timeoutMs),
  };
}

/**
 * A local-only setup: no auto-update ("Auto-updating…" in a launched session) and no calls
 * home (telemetry, error reports). Gateway model discovery still runs with these set.
 */
export const LOCAL_ONLY_ENV = { DISABLE_AUTOUPDATER: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" } as const;

/** The largest answer Claude Code asks for by default; it comes out of the window. */
const CLAUDE_DEFAULT_OUTPUT = 32_000;

/**
 * Claude Code's window variables for the main model's window. Claude Code assumes 200k for
 * ids it does not know; told the real window it compacts in time instead of overflowing.
 * CLAUDE_CODE_MAX_CONTEXT_TOKENS applies only to ids that do not start with `claude-`, which
 * the tier names launch uses never do. The answer may take a quarter of a small window.
 */
export function windowEnv(window: number | undefined): Record<string, string> {
  if (!window) return {};
  return {
    CLAUDE_CODE_MAX_CONTEXT_TOKENS: String(window),
    CLAUDE_CODE_AUTO_COMPACT_WINDOW: String(window),
    CLAUDE_CODE_MAX_OUTPUT_TOKENS: String(Math.min(CLAUDE_DEFAULT_OUTPUT, Math.max(1024, Math.floor(window / 4)))),
  };
}

/**
 * The window of the model the main session runs on (the opus tier, as Claude Code launched
 * this way defaults to it), from the daemon's /v1/models; undefined when unknown.
 */
export async function mainWindow(config: Config, url: string): Promise<number | undefined> {
  const token = config.server.auth_tokens[0];
  try {
    const res = await fetch(`${url}/v1/models?limit=1000`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(5000) });
    if (!res.ok) return undefined;
    const list = ((await res.json()) as { data?: Array<{ id: string; context_window?: number }> }).data ?? [];
    const byId = new Map(list.map((m) => [m.id, m.context_window]));
    const main = modelForTier("opus", config);
    if (byId.has(main)) return byId.get(main);
    const route = config.routes.opus?.[0] ?? config.routes.default[0];
    if (route) return byId.get(route);
    // Zero config: the daemon's own pick among what the providers serve.
    const names = new Set(config.providers.map((p) => p.name));
    const discovered = new Map<string, string[]>();
    for (const { id } of list) {
      const t = parseTarget(id);
      if (t.model && names.has(t.provider)) discovered.set(t.provider, [...(discovered.get(t.provider) ?? []), t.model]);
    }
    const pick = autoTargets("opus", [...discovered].map(([provider, models]) => ({ provider, models })))[0];
    return pick ? byId.get(formatTarget(pick)) : undefined;
  } catch {
    return undefined;
  }
}

/** `atrad launch claude [-- ARGS]` (the TOOL argument is checked against its choices). */
export async function launchCommand({ rest: userArgs }: Input<{}>, io: CliIO): Promise<number> {
  const config = loadConfig({ env: io.env });
  // atrad's own settings file, layered by Claude Code over the user's (never edited): the
  // status line shows which local model served the session.
  const args = ["--settings", writeClaudeSettings(config.home, selfCommand()), ...userArgs];
  const url = connectUrl(config);

  const exe = Bun.which("claude", { PATH: io.env.PATH ?? "" });
  if (!exe) {
    io.err("atrad launch: Claude Code (`claude`) is not on PATH. Install it: npm install -g @anthropic-ai/claude-code\n");
    return 127;
  }
  const up = await ensureDaemon(url, io);
  if (up !== 0) return up;
  // The user's own settings of these win: they may know better than the server.
  const window = windowEnv(await mainWindow(config, url));
  if (config.server.launch_warmup) warmup(config, url);
  // That listing just asked every provider for its models: the status now tells who answered.
  const doc = await daemonStatus(url, config.server.auth_tokens[0]);
  const why = doc && (await whyNoModel(doc, config));
  if (why) {
    io.err(noModelMessage(why));
    return EXIT_NO_MODEL;
  }

  // Claude Code owns the terminal now: Ctrl-C belongs to it, so atrad must not die of it.
  const ignore = () => {};
  process.on("SIGINT", ignore);
  try {
    const child = Bun.spawn([exe, ...args], {
      cwd: process.cwd(),
      env: { ...LOCAL_ONLY_ENV, ...window, ...io.env, ...claudeEnv(config, url) } as Record<string, string>,
      stdio: ["inherit", "inherit", "inherit"],
    });
    return await child.exited;
  } finally {
    process.off("SIGINT", ignore);
  }
}

/**
 * Ask the daemon to prefill the main model's fixed prefix, and don't wait: Claude Code starts
 * meanwhile, and its first request finds the prefix cached (or queues behind the warm-up).
 */
function warmup(config: Config, url: string) {
  const token = config.server.auth_tokens[0];
  void fetch(`${url}/atrad/warmup?model=${encodeURIComponent(modelForTier("opus", config))}`, { method: "POST", headers: token ? { authorization: `Bearer ${token}` } : {} })
    .then((r) => r.body?.cancel())
    .catch(() => {});
}

/** `$ATRAD_HOME/claude/settings.json`: the statusLine command, pointing at this atrad. */
export function writeClaudeSettings(home: string, self: string[]): string {
  const dir = join(home, "claude");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "settings.json");
  const command = [...self, "statusline"].map((a) => (/^[\w./:@-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(" ");
  writeFileSync(file, JSON.stringify({ statusLine: { type: "command", command, padding: 0 } }, null, 2) + "\n");
  return file;
}

async function ensureDaemon(url: string, io: CliIO): Promise<number> {
  const health = await probeHealth(url);
  if (health.state === "atrad") return 0;
  if (health.state === "other") {
    io.err(`atrad launch: something that is not atrad answers at ${url} (${health.detail}). Fix: stop it (lsof -nP -iTCP:${new URL(url).port} -sTCP:LISTEN) or set [server] port\n`);
    return 1;
  }
  const { layout } = await serviceContext(io);
  const installed = layout.manager !== "none" && existsSync(layout.serviceFile!);
  // No login service: run the daemon in the background (pidfile), so `atrad stop` ends it.
  const l = installed ? layout : layoutFor({ env: io.env, platform: layout.platform, manager: "none", prefix: join(layout.binDir, ".."), port: Number(new URL(url).port) });
  io.err(`atrad launch: starting atrad (${installed ? layout.manager : "background"})…\n`);
  const self = existsSync(l.bin) ? undefined : selfCommand();
  try {
    await runPlan(planFor("start", l, { self }), { env: io.env, log: () => {} });
  } catch (err) {
    io.err(`atrad launch: ${(err as Error).message}\n`);
    return 1;
  }
  return 0;
}
