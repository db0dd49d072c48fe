/** Writing a config file for the user to edit (`atrad config init`): TOML with comments. */
import { stringify } from "smol-toml";
import type { Config } from "./load.ts";

export function renderInitialConfig(routes: { default: string[]; opus?: string[]; sonnet?: string[]; haiku?: string[] }): string {
  const table = Object.fromEntries(Object.entries(routes).filter(([, v]) => v && v.length));
  return `# atrad configuration — every key is optional; see README "Configuration".
# Model names pick the backend: "provider/model" directly, an alias, or a Claude name
# containing opus/sonnet/haiku (Claude Code's own), which uses the matching route below.

[server]
host = "127.0.0.1"   # a non-loopback host requires auth_tokens
port = 8040
# auth_tokens = ["change-me"]

# Providers: the defaults are ollama (:11434, anthropic kind), mlx (:11435, ollama kind,
# prompt-based tools), victoria (:8010) and veronica (:8011). Override or add here, e.g.:
# [providers.lmstudio]
# kind = "openai"
# url = "http://127.0.0.1:1234"

${Object.keys(table).length ? `[routes]\n${stringify(table)}\n` : NO_ROUTES}
[routes.aliases]
# fast = ["mlx/qwen2.5-3b"]
`;
}

/** With no model found there is nothing to write down: an empty [routes] would only mislead. */
const NO_ROUTES = `# [routes]: none yet — no running provider had a model. Until you add some, atrad picks
# an installed model itself; \`atrad config init --force\` writes its choice down later, e.g.:
# [routes]
# default = ["ollama/qwen3-coder"]
`;

/** The effective config as TOML (for `atrad config print`), secrets masked. */
export function renderEffectiveConfig(config: Config): string {
  const providers = Object.fromEntries(
    config.providers.map(({ name, apiKey, ...table }) => [name, clean({ ...table, api_key: apiKey ? "***" : undefined })]),
  );
  const services = Object.fromEntries(
    config.services.map((s) => [s.name, clean({ health: s.health, port: s.port, expect: s.expect, command: s.command, restart: s.restart, provider: s.provider })]),
  );
  return stringify({
    server: {
      host: config.server.host,
      port: config.server.port,
      auth_tokens: config.server.authTokens.map(() => "***"),
      max_body_mb: config.server.maxBodyBytes / 1024 / 1024,
    },
    providers,
    routes: clean({ ...config.routes, aliases: config.routes.aliases }),
    services,
  });
}

function clean<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
