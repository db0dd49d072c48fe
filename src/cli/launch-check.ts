/**
 * Before `atrad launch claude` starts Claude Code: can anything answer its main model? With
 * nothing reachable, Claude Code would only say "There's an issue with the selected model",
 * hiding atrad's explanation; so launch says what to start or pull, and does not launch.
 * Judged from the daemon's status document (its providers' observed states and model lists,
 * its routes), so the check agrees with what the daemon will do. A provider is ruled out only
 * on evidence: down, or up with a model list that lacks the model; unknown counts as reachable.
 */
import type { Config, Provider } from "../config/load.ts";
import { statusDocumentError, type ProviderEntry, type StatusDocument } from "../observe/status-document.ts";
import { specOf } from "../providers/index.ts";
import { formatTarget, parseTarget, type Target } from "../router/resolve.ts";
import { isOllama, startHint } from "../router/unreachable.ts";

/** States in which a provider may answer soon enough (coming up, or not observed yet). */
const MAY_ANSWER: ReadonlySet<ProviderEntry["state"]> = new Set(["up", "degraded", "starting", "unknown"]);

/**
 * Why no target of the main route (opus, else default, else every provider) can answer, as
 * lines a person can act on; undefined when one can.
 */
export function whyNoModel(doc: StatusDocument, config: Config, platform: string = process.platform): { route: string; reasons: string[] } | undefined {
  const routes = doc.routes ?? {};
  const named = routes.opus?.length ? "opus" : routes.default?.length ? "default" : undefined;
  const targets: Target[] = named ? routes[named]!.map(parseTarget) : doc.providers.map((p) => ({ provider: p.name, model: "" }));
  const reasons: string[] = [];
  for (const target of targets) {
    const reason = blocked(target, doc, config, platform);
    if (reason === undefined) return undefined;
    reasons.push(reason);
  }
  if (!reasons.length) reasons.push("no provider is configured; add one (`atrad config init` writes a starting config)");
  return { route: named ? `${named} → ${routes[named]!.join(", ")}` : "the automatic pick among every provider", reasons };
}

function blocked(target: Target, doc: StatusDocument, config: Config, platform: string): string | undefined {
  const entry = doc.providers.find((p) => p.name === target.provider);
  const provider = config.providers.find((p) => p.name === target.provider);
  const what = formatTarget(target);
  if (!entry) return `${what}: the daemon has no provider "${target.provider}"; add [providers.${target.provider}] to its config`;
  if (!MAY_ANSWER.has(entry.state)) {
    const hint = provider ? startHint(provider, config.services, platform) : `start the server at ${entry.url}`;
    return `${what}: ${entry.name} is ${entry.state}${entry.error ? ` (${entry.error})` : ""}; ${hint}`;
  }
  // Only a list the upstream reported can prove a model missing (a configured one is a promise).
  const listed = provider !== undefined && !provider.models && specOf(provider).capabilities.listsModels;
  if (!listed || entry.state === "unknown" || entry.state === "starting") return undefined;
  if (target.model && !entry.models.includes(target.model)) return `${what}: ${entry.name} is up but has no model "${target.model}"; ${pullHint(provider, target.model, entry)}`;
  if (!target.model && !entry.models.length) return `${what}: ${entry.name} is up but serves no model; ${pullHint(provider, undefined, entry)}`;
  return undefined;
}

function pullHint(provider: Provider, model: string | undefined, entry: ProviderEntry): string {
  const has = entry.models.length ? ` (it has: ${entry.models.slice(0, 5).join(", ")})` : "";
  if (isOllama(provider)) return `pull it: \`ollama pull ${model ?? "qwen2.5-coder:7b"}\`${has}`;
  return `load ${model ? "it" : "a model"} on the server at ${entry.url}${has}`;
}

/** The message launch prints. */
export function noModelMessage(why: { route: string; reasons: string[] }): string {
  return [
    `atrad launch: nothing can answer Claude Code's main model (route ${why.route}), so Claude Code is not started:`,
    ...why.reasons.map((r) => `  - ${r}`),
    "Start or pull what is missing, then run `atrad launch claude` again; `atrad status` shows what is up.",
    "",
  ].join("\n");
}

/** The daemon's status document; undefined when it cannot be had (then launch does not judge). */
export async function daemonStatus(url: string, token: string | undefined): Promise<StatusDocument | undefined> {
  try {
    const res = await fetch(`${url}/atrad/status`, { headers: { accept: "application/json", ...(token ? { "x-api-key": token } : {}) }, signal: AbortSignal.timeout(5000) });
    if (!res.ok) return undefined;
    const doc: unknown = await res.json();
    return statusDocumentError(doc) ? undefined : (doc as StatusDocument);
  } catch {
    return undefined;
  }
}
