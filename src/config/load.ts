/**
 * Loading the config: file (TOML) → merge over the default stack → schema check with key
 * paths (and the schema's defaults filled in) → environment overrides, checked too. Pure
 * apart from reading the file, so tests pass text directly.
 */
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { existsSync, readFileSync } from "node:fs";
import { parse as parseToml, TomlError } from "smol-toml";
import { Value } from "@sinclair/typebox/value";
import type { Provider } from "../providers/index.ts";
import { ConfigSchema, EnvSchema, ROUTE_KEYS, type ConfigFile, type LogConfig, type RoutesConfig, type ServerConfig, type ServiceConfig } from "./schema.ts";
import { DEFAULTS } from "./defaults.ts";
import { explain } from "./explain.ts";

export type { Provider } from "../providers/index.ts";

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
    /** Where in the file, when one place is at fault (a TOML syntax error). */
    readonly at?: { line: number; column: number },
  ) {
    super(`invalid config ${file}${at ? `:${at.line}:${at.column}` : ""}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** A watched service: its table with defaults filled in, its name, and the port it is on. */
export type Service = Omit<ServiceConfig, "enabled"> & { name: string };
export type Routes = RoutesConfig;

/** The resolved config: each part is the schema's type, with the environment's overrides applied. */
export interface Config {
  file: string;
  fileExists: boolean;
  home: string;
  server: ServerConfig;
  providers: Provider[];
  routes: Routes;
  services: Service[];
  log: LogConfig;
}

type Env = Record<string, string | undefined>;

export function atradHome(env: Env = process.env): string {
  return env.ATRAD_HOME || join(env.HOME || homedir(), ".atrad");
}

export function configPath(env: Env = process.env, override?: string): string {
  return resolve(override || env.ATRAD_CONFIG || join(atradHome(env), "config.toml"));
}

/**
 * Read and resolve the config. No file means defaults — except for a file named on the command
 * line (--config), where a typo in the path would otherwise run on defaults unnoticed. (An
 * ATRAD_CONFIG that names a file not written yet is allowed: `install` sets it up first.)
 * A broken file is a ConfigError.
 */
export function loadConfig(opts: { env?: Env; file?: string } = {}): Config {
  const env = opts.env ?? process.env;
  const file = configPath(env, opts.file);
  const exists = existsSync(file);
  if (!exists && opts.file) throw new ConfigError(file, [`no such file (named by --config); create it with: atrad config init --config ${file}`]);
  const text = exists ? readFileSync(file, "utf8") : "";
  // resolveConfig checks the document: checking it here as well cost a CLI start ~5 ms.
  return resolveConfig(tomlDocument(text, file), { env, file, fileExists: exists });
}

/** The file's text as a config document: TOML, then the schema (a ConfigError names what broke). */
export function parseConfigText(text: string, file = "config.toml"): ConfigInput {
  const raw = tomlDocument(text, file);
  checkDocument(raw, file);
  return raw;
}

/** The file's text as TOML, unchecked (a ConfigError names the line and column that broke). */
function tomlDocument(text: string, file: string): ConfigInput {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (err) {
    const message = (err as Error).message.split("\n")[0]!.replace(/^Invalid TOML document: /, "");
    if (!(err instanceof TomlError)) throw new ConfigError(file, [`TOML syntax: ${message}`]);
    // smol-toml's code block shows the line with a caret under the column.
    const excerpt = err.codeblock ? `\n${err.codeblock.replace(/\n+$/, "").replace(/^/gm, "      ")}` : "";
    throw new ConfigError(file, [`TOML syntax at line ${err.line}, column ${err.column}: ${message}${excerpt}`], { line: err.line, column: err.column });
  }
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
  const problems = explain(EnvSchema, env);

  const providers: Provider[] = [];
  const disabled = new Set<string>();
  for (const [name, p] of Object.entries(file.providers)) {
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
  for (const [name, s] of Object.entries(file.services)) {
    if (s.enabled === false) continue;
    // A default service watching a provider the user disabled goes with it.
    if (s.provider && disabled.has(s.provider)) {
      if (!isTable(userServices[name])) continue;
      if (!(userServices[name] as ServiceConfig).provider) s.provider = undefined;
    }
    if (!s.health && !s.port) problems.push(`services.${name}: needs health or port`);
    if (s.provider && !providers.some((p) => p.name === s.provider))
      problems.push(`services.${name}.provider: no provider named "${s.provider}"`);
    const { enabled: _, ...table } = s;
    services.push({ name, ...table, port: s.port ?? portOf(s.health) });
  }

  const routes = file.routes;
  const names = new Set(providers.map((p) => p.name));
  const checkTargets = (key: string, targets: string[] | undefined) =>
    targets?.forEach((t, i) => {
      const provider = t.split("/")[0]!;
      if (!names.has(provider)) problems.push(`routes.${key}[${i}]: "${t}" names no provider (have: ${[...names].join(", ")})`);
    });
  for (const key of ROUTE_KEYS) checkTargets(key, routes[key]);
  for (const [alias, targets] of Object.entries(routes.aliases)) checkTargets(`aliases.${JSON.stringify(alias)}`, targets);

  const port = env.ATRAD_PORT === undefined ? file.server.port : Number(env.ATRAD_PORT);
  if (env.ATRAD_PORT !== undefined && !(port <= 65535)) problems.push(`ATRAD_PORT: "${env.ATRAD_PORT}" is not a port (0–65535)`);
  if (problems.length) throw new ConfigError(path, problems);

  return {
    file: path,
    fileExists: ctx.fileExists ?? false,
    home: atradHome(env),
    server: { ...file.server, host: env.ATRAD_HOST || file.server.host, port },
    providers,
    routes,
    services,
    log: { level: (env.ATRAD_LOG_LEVEL as LogConfig["level"] | undefined) ?? file.log.level },
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

/**
 * The refusal `serve` makes before listening, as a config problem: `config check` asks the
 * same question, so a file that check passes is one serve starts with.
 */
export function listenProblem(config: Config, host = config.server.host): string | undefined {
  if (isLoopback(host) || config.server.auth_tokens.length) return undefined;
  return (
    `server.host: refusing to listen on ${host} without auth: anyone who can reach it could use your models.\n` +
    `  Fix: add tokens to ${config.file}:  [server] auth_tokens = ["<a long random string>"]\n` +
    `  or listen on loopback only: host = "127.0.0.1" (atrad serve --host 127.0.0.1)`
  );
}
