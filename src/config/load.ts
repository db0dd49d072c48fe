/**
 * Loading the config: file (TOML) → schema check with key paths → merge over defaults →
 * environment overrides. Pure apart from reading the file, so tests pass text directly.
 */
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { existsSync, readFileSync } from "node:fs";
import { parse as parseToml } from "smol-toml";
import { Value } from "@sinclair/typebox/value";
import { ConfigSchema, type ConfigFile, type Kind, type ProviderConfig, type ServiceConfig } from "./schema.ts";
import { DEFAULTS } from "./defaults.ts";

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`invalid config ${file}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export interface Provider {
  name: string;
  kind: Kind;
  urls: string[];
  apiKey?: string;
  models?: string[];
  tools: "native" | "prompt" | "none";
  maxConcurrency: number;
  maxFails: number;
  cooldownMs: number;
  queueTimeoutMs: number;
  timeoutMs: number;
  numCtx?: number;
  projectContext: "keep" | "drop" | number;
  showProgress: boolean;
  maxSteps?: number;
}

export interface Service {
  name: string;
  health?: string;
  port?: number;
  expect?: Record<string, Array<string | number | boolean>>;
  command?: string[];
  cwd?: string;
  env?: Record<string, string>;
  restart?: string[];
  provider?: string;
  intervalMs: number;
  timeoutMs: number;
  /** Unset: the supervisor's default. */
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
}

export interface Routes {
  default: string[];
  opus?: string[];
  sonnet?: string[];
  haiku?: string[];
  aliases: Record<string, string[]>;
}

export interface Config {
  file: string;
  fileExists: boolean;
  home: string;
  server: {
    host: string;
    port: number;
    authTokens: string[];
    maxBodyBytes: number;
    allowedHosts: string[];
    allowedOrigins: string[];
    pingIntervalMs: number;
    idleTimeoutS: number;
    shutdownGraceMs: number;
    maxConnections: number;
  };
  providers: Provider[];
  routes: Routes;
  services: Service[];
  logLevel: string;
}

type Env = Record<string, string | undefined>;

export function atradHome(env: Env = process.env): string {
  return env.ATRAD_HOME || join(env.HOME || homedir(), ".atrad");
}

export function configPath(env: Env = process.env, override?: string): string {
  return resolve(override || env.ATRAD_CONFIG || join(atradHome(env), "config.toml"));
}

/** Read and resolve the config. A missing file means defaults; a broken one is a ConfigError. */
export function loadConfig(opts: { env?: Env; file?: string } = {}): Config {
  const env = opts.env ?? process.env;
  const file = configPath(env, opts.file);
  const exists = existsSync(file);
  const text = exists ? readFileSync(file, "utf8") : "";
  return resolveConfig(parseConfigText(text, file), { env, file, fileExists: exists });
}

export function parseConfigText(text: string, file = "config.toml"): ConfigFile {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (err) {
    throw new ConfigError(file, [`TOML syntax: ${(err as Error).message.split("\n")[0]}`]);
  }
  const problems = [...Value.Errors(ConfigSchema, raw)].map((e) => `${keyPath(e.path)}: ${e.message}`);
  if (problems.length) throw new ConfigError(file, dedupe(problems));
  return raw as ConfigFile;
}

function keyPath(pointer: string): string {
  const parts = pointer.split("/").slice(1).map((p) => p.replaceAll("~1", "/").replaceAll("~0", "~"));
  return parts.length ? parts.map((p) => (/^[A-Za-z0-9_-]+$/.test(p) ? p : JSON.stringify(p))).join(".") : "(top level)";
}

function dedupe(xs: string[]) {
  return [...new Set(xs)].slice(0, 20);
}

export function resolveConfig(file: ConfigFile, ctx: { env?: Env; file?: string; fileExists?: boolean } = {}): Config {
  const env = ctx.env ?? process.env;
  const path = ctx.file ?? configPath(env);
  const server = { ...DEFAULTS.server, ...file.server };
  const problems: string[] = [];

  const providers: Provider[] = [];
  const providerTables = mergeByName<ProviderConfig>(DEFAULTS.providers as Record<string, ProviderConfig>, file.providers);
  for (const [name, p] of Object.entries(providerTables)) {
    if (p.enabled === false) continue;
    if (!p.kind) {
      problems.push(`providers.${name}.kind: required for a provider atrad has no default for (anthropic | openai | ollama | victoria)`);
      continue;
    }
    const urls = (p.urls ?? (p.url ? [p.url] : [])).map((u) => u.replace(/\/+$/, ""));
    if (!urls.length) problems.push(`providers.${name}: needs url or urls`);
    for (const u of urls) if (!/^https?:\/\//.test(u)) problems.push(`providers.${name}.url: "${u}" must start with http:// or https://`);
    const apiKey = p.api_key ?? (p.api_key_env ? env[p.api_key_env] : undefined);
    providers.push({
      name,
      kind: p.kind,
      urls,
      apiKey,
      models: p.models,
      tools: p.tools ?? (p.kind === "victoria" ? "none" : "native"),
      maxConcurrency: p.max_concurrency ?? 0,
      maxFails: p.max_fails ?? 3,
      cooldownMs: (p.cooldown_s ?? 30) * 1000,
      queueTimeoutMs: (p.queue_timeout_s ?? 300) * 1000,
      timeoutMs: (p.timeout_s ?? 600) * 1000,
      numCtx: p.num_ctx,
      projectContext: p.project_context ?? "keep",
      showProgress: p.show_progress ?? true,
      maxSteps: p.max_steps,
    });
  }

  const services: Service[] = [];
  const serviceTables = mergeByName<ServiceConfig>(DEFAULTS.services as Record<string, ServiceConfig>, file.services);
  for (const [name, s] of Object.entries(serviceTables)) {
    if (s.enabled === false) continue;
    if (!s.health && !s.port) problems.push(`services.${name}: needs health or port`);
    if (s.provider && !providers.some((p) => p.name === s.provider))
      problems.push(`services.${name}.provider: no provider named "${s.provider}"`);
    services.push({
      name,
      health: s.health,
      port: s.port ?? portOf(s.health),
      expect: s.expect,
      command: s.command,
      cwd: s.cwd,
      env: s.env,
      restart: s.restart,
      provider: s.provider,
      intervalMs: (s.interval_s ?? 5) * 1000,
      timeoutMs: (s.timeout_s ?? 2) * 1000,
      ...(s.start_timeout_s !== undefined ? { startTimeoutMs: s.start_timeout_s * 1000 } : {}),
      ...(s.stop_timeout_s !== undefined ? { stopTimeoutMs: s.stop_timeout_s * 1000 } : {}),
    });
  }

  const routes: Routes = {
    default: file.routes?.default ?? [],
    opus: file.routes?.opus,
    sonnet: file.routes?.sonnet,
    haiku: file.routes?.haiku,
    aliases: file.routes?.aliases ?? {},
  };
  const names = new Set(providers.map((p) => p.name));
  const checkTargets = (key: string, targets: string[] | undefined) =>
    targets?.forEach((t, i) => {
      const provider = t.split("/")[0]!;
      if (!names.has(provider)) problems.push(`routes.${key}[${i}]: "${t}" names no provider (have: ${[...names].join(", ")})`);
    });
  for (const key of ["default", "opus", "sonnet", "haiku"] as const) checkTargets(key, routes[key]);
  for (const [alias, targets] of Object.entries(routes.aliases)) checkTargets(`aliases.${JSON.stringify(alias)}`, targets);

  const host = env.ATRAD_HOST || server.host;
  const port = env.ATRAD_PORT ? Number(env.ATRAD_PORT) : server.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`ATRAD_PORT: "${env.ATRAD_PORT}" is not a port`);
  if (problems.length) throw new ConfigError(path, problems);

  return {
    file: path,
    fileExists: ctx.fileExists ?? false,
    home: atradHome(env),
    server: {
      host,
      port,
      authTokens: server.auth_tokens ?? [],
      maxBodyBytes: Math.round((server.max_body_mb ?? 32) * 1024 * 1024),
      allowedHosts: server.allowed_hosts ?? [],
      allowedOrigins: server.allowed_origins ?? [],
      pingIntervalMs: (server.ping_interval_s ?? 10) * 1000,
      idleTimeoutS: server.idle_timeout_s ?? 60,
      shutdownGraceMs: (server.shutdown_grace_s ?? 10) * 1000,
      maxConnections: server.max_connections ?? 1024,
    },
    providers,
    routes,
    services,
    logLevel: env.ATRAD_LOG_LEVEL || file.log?.level || "info",
  };
}

/**
 * User tables merge over the defaults of the same name — unless they change the provider's
 * kind, in which case the default's kind-specific settings (say, mlx's prompt tools) would
 * be wrong and the user's table stands alone.
 */
function mergeByName<T extends object>(defaults: Record<string, T>, user: Record<string, T> | undefined): Record<string, T> {
  const out: Record<string, T> = { ...defaults };
  for (const [name, value] of Object.entries(user ?? {})) {
    const base = defaults[name];
    const kind = (t: T | undefined) => (t as { kind?: string } | undefined)?.kind;
    const sameKind = base && (!kind(value) || kind(value) === kind(base));
    out[name] = { ...(sameKind ? base : {}), ...value } as T;
  }
  return out;
}

function portOf(url: string | undefined): number | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return Number(u.port || (u.protocol === "https:" ? 443 : 80));
  } catch {
    return undefined;
  }
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
