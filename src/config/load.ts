/**
 * Loading the config: file (TOML) → schema check with key paths → merge over defaults →
 * environment overrides. Pure apart from reading the file, so tests pass text directly.
 */
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { existsSync, readFileSync } from "node:fs";
import { parse as parseToml } from "smol-toml";
import { Value } from "@sinclair/typebox/value";
import type { Provider } from "../providers/index.ts";
import { ConfigSchema, type ConfigFile, type ServiceConfig } from "./schema.ts";
import { DEFAULTS } from "./defaults.ts";
import { explain } from "./explain.ts";

export type { Provider } from "../providers/index.ts";

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`invalid config ${file}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
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

/** The file's text as a config document: TOML, then the schema (a ConfigError names what broke). */
export function parseConfigText(text: string, file = "config.toml"): ConfigInput {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (err) {
    throw new ConfigError(file, [`TOML syntax: ${(err as Error).message.split("\n")[0]}`]);
  }
  checkDocument(raw as ConfigInput, file);
  return raw as ConfigInput;
}

/** A config document as written: any key may be missing (defaults fill it). */
export type ConfigInput = Record<string, unknown>;

/**
 * The user's document merged over the defaults, checked, with the schema's defaults filled in.
 * Merging comes first because a table overriding a default provider need not repeat its kind.
 */
function checkDocument(raw: ConfigInput, file: string): ConfigFile {
  const doc: ConfigInput = structuredClone(raw);
  doc.providers = mergeByName(DEFAULTS.providers, raw.providers);
  doc.services = mergeByName(DEFAULTS.services, raw.services);
  const filled = Value.Default(ConfigSchema, doc);
  const problems = explain(ConfigSchema, filled);
  if (problems.length) throw new ConfigError(file, problems.slice(0, 20));
  return filled as ConfigFile;
}

export function resolveConfig(input: ConfigInput, ctx: { env?: Env; file?: string; fileExists?: boolean } = {}): Config {
  const env = ctx.env ?? process.env;
  const path = ctx.file ?? configPath(env);
  const file = checkDocument(input, path);
  const server = { ...DEFAULTS.server, ...file.server };
  const problems: string[] = [];

  const providers: Provider[] = [];
  const disabled = new Set<string>();
  for (const [name, p] of Object.entries(file.providers ?? {})) {
    if (!p.enabled) {
      disabled.add(name);
      continue;
    }
    const { url, urls: list, api_key, api_key_env, enabled: _, ...options } = p;
    const urls = (list ?? (url ? [url] : [])).map((u) => u.replace(/\/+$/, ""));
    if (!urls.length) problems.push(`providers.${name}: needs url or urls`);
    for (const u of urls) if (!/^https?:\/\//.test(u)) problems.push(`providers.${name}.url: "${u}" must start with http:// or https://`);
    const apiKey = api_key ?? (api_key_env ? env[api_key_env] : undefined);
    providers.push({ name, ...options, urls, apiKey } as Provider);
  }

  const services: Service[] = [];
  const userServices = isTable(input.services) ? input.services : {};
  for (const [name, s] of Object.entries(file.services ?? {})) {
    if (s.enabled === false) continue;
    // A default service watching a provider the user disabled goes with it.
    if (s.provider && disabled.has(s.provider)) {
      if (!isTable(userServices[name])) continue;
      if (!(userServices[name] as ServiceConfig).provider) s.provider = undefined;
    }
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
function mergeByName(defaults: Record<string, object>, user: unknown): unknown {
  // Not a table of tables: leave it for the schema to name.
  if (user !== undefined && (!isTable(user) || !Object.values(user).every(isTable))) return user;
  const out: Record<string, object> = structuredClone(defaults);
  for (const [name, value] of Object.entries((user ?? {}) as Record<string, Record<string, unknown>>)) {
    const base = defaults[name] as Record<string, unknown> | undefined;
    const sameKind = base && (value.kind === undefined || value.kind === base.kind);
    out[name] = { ...(sameKind ? structuredClone(base) : {}), ...value };
  }
  return out;
}

function isTable(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
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
