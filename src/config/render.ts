/** Writing a config file for the user to edit (`atrad config init`): TOML with comments. */
import type { TObject } from "@sinclair/typebox";
import { stringify } from "smol-toml";
import { specOf } from "../providers/index.ts";
import type { Config } from "./load.ts";
import { maskUrls } from "../mask.ts";
import { LogSchema, RoutesSchema, ServerSchema, ServiceSchema } from "./schema.ts";

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

/**
 * The effective config as TOML (for `atrad config print`): every key of the schema that has a
 * value, defaults included, in the schema's order — so a key added to the schema is printed
 * without touching this function. Secrets are masked: keys and tokens, and URL passwords.
 */
export function renderEffectiveConfig(config: Config): string {
  const providers = Object.fromEntries(
    config.providers.map(({ name, apiKey, urls, ...rest }) => [
      name,
      setKeys(specOf(rest.kind).table, { ...rest, urls, api_key: apiKey === undefined ? undefined : "***" }),
    ]),
  );
  const services = Object.fromEntries(config.services.map(({ name, ...rest }) => [name, setKeys(ServiceSchema, rest)]));
  return stringify(maskUrls({
    server: setKeys(ServerSchema, { ...config.server, auth_tokens: config.server.auth_tokens.map(() => "***") }),
    providers,
    routes: setKeys(RoutesSchema, config.routes),
    services,
    log: setKeys(LogSchema, config.log),
  }));
}

/** The keys of `schema` that `value` sets, in the schema's order (unknown keys are not config). */
function setKeys(schema: TObject, value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(schema.properties).flatMap((k) => (value[k] === undefined ? [] : [[k, value[k]]])));
}
