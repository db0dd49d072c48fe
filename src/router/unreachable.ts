/**
 * When no target of a route can answer — every backend is down or refuses connections — a
 * retry cannot help, and Claude Code would spend minutes retrying a 529 before it showed
 * anything. The answer comes at once, with `x-should-retry: false` (which the official SDKs and
 * Claude Code honour) and a message naming each down backend and how to start it.
 */
import { AtradError } from "../anthropic/errors.ts";
import type { Provider, Service } from "../config/load.ts";

export interface DeadTarget {
  target: string;
  /** Undefined when the route names a provider the config does not have. */
  provider?: Provider;
  reason: string;
}

export function unreachable(model: string, rule: string, dead: DeadTarget[], services: Service[], platform: string = process.platform): AtradError {
  const lines = dead.map((d) => {
    // An upstream's own message already starts with the target.
    const why = d.reason.startsWith(d.target) ? d.reason : `${d.target}: ${d.reason}`;
    return `${why}; ${d.provider ? startHint(d.provider, services, platform) : `add [providers.${d.target.split("/")[0]}] to the config`}`;
  });
  // Not overloaded_error: clients retry that type whatever the headers say.
  return new AtradError("api_error", `no backend can answer model "${model}" (route ${rule}) — ${lines.join(" — ")}. Then \`atrad status\` shows what is up.`, {
    status: 503,
    headers: { "x-should-retry": "false" },
  });
}

/** How to bring a provider's server up, as concretely as atrad knows it. */
export function startHint(provider: Provider, services: Service[], platform: string): string {
  const service = services.find((s) => s.provider === provider.name);
  if (service?.restart?.length) return `start it with \`${service.restart.join(" ")}\``;
  if (service?.command?.length) return `atrad starts service ${service.name} itself: \`atrad logs\` says why it is not up`;
  if (isOllama(provider)) {
    if (platform === "darwin") return "start it with `brew services start ollama` (or open the Ollama app)";
    if (platform === "linux") return "start it with `systemctl start ollama` (or `ollama serve`)";
    return "start it with `ollama serve`";
  }
  return `start the server at ${provider.urls[0] ?? provider.name}`;
}

/** Ollama by name or by its well-known port (any kind can talk to it). */
export function isOllama(provider: Provider): boolean {
  return /ollama/i.test(provider.name) || provider.urls.some((u) => /:11434(\/|$)/.test(u));
}
