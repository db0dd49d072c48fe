/**
 * Before `atrad launch claude` starts Claude Code: can anything answer its main model? With
 * nothing reachable, Claude Code would only say "There's an issue with the selected model",
 * hiding atrad's explanation; so launch says what to start or pull, and does not launch.
 * Judged from the daemon's status document (its providers' observed states and model lists,
 * its routes), so the check agrees with what the daemon will do. A provider is ruled out only
 * on evidence: down, or up with a model list that lacks the model; unknown counts as reachable.
 * What the daemon saw may be old (at login Ollama comes up after atrad, and a request asks it
 * again before answering 404), so a provider that lists models is asked once more, here and
 * now, before it is ruled out.
 */
import type { Config, Provider } from "../config/load.ts";
import { statusDocumentError, type ProviderEntry, type StatusDocument } from "../observe/status-document.ts";
import { specOf } from "../providers/index.ts";
import { formatTarget, parseTarget, type Target } from "../router/resolve.ts";
import { isOllama, startHint } from "../router/unreachable.ts";

/** States in which a provider may answer soon enough (coming up, or not observed yet). */
const MAY_ANSWER: ReadonlySet<ProviderEntry["state"]> = new Set(["up", "degraded", "starting", "unknown"]);

/** A provider's models as its server lists them now (throws when it cannot be asked). */
export type AskModels = (provider: Provider) => Promise<string[]>;

const askNow: AskModels = (p) => specOf(p).listModels(p, p.urls[0]!, AbortSignal.timeout(3000));

/**
 * Why no target of the main route (opus, else default, else every provider) can answer, as
 * lines a person can act on; undefined when one can.
 */
export async function whyNoModel(doc: StatusDocument, config: Config, ask: AskModels = askNow, platform: string = process.platform): Promise<{ route: string; reasons: string[] } | undefined> {
  const routes = doc.routes ?? {};
  const named = routes.opus?.length ? "opus" : routes.default?.length ? "default" : undefined;
  const targets: Target[] = named ? routes[named]!.map(parseTarget) : doc.providers.map((p) => ({ provider: p.name, model: "" }));
  const reasons: string[] = [];
  for (const target of targets) {
    let reason = blocked(target, doc, config, platform);
    if (reason !== undefined) reason = await again(target, doc, config, platform, ask, reason);
    if (reason === undefined) return undefined;
    reasons.push(reason);
  }
  if (!reasons.length) reasons.push("no provider is configured; add one (`atrad config init` writes a starting config)");
  return { route: named ? `${named} → ${routes[named]!.join(", ")}` : "the automatic pick among every provider", reasons };
}

/** The verdict on a fresh listing, for a provider that lists its models; else the old reason. */
async function again(target: Target, doc: StatusDocument, config: Config, platform: string, ask: AskModels, reason: string): Promise<string | undefined> {
  const provider = config.providers.find((p) => p.name === target.provider);
  const entry = doc.providers.find((p) => p.name === target.provider);
  if (!provider || !entry || provider.models || !specOf(provider).capabilities.listsModels) return reason;
  let fresh: ProviderEntry;
  try {
    fresh = { ...entry, state: "up", models: await ask(provider) };
  } catch (err) {
    fresh = { ...entry, state: "down", error: (err as Error).message };
  }
  return blocked(target, { ...doc, providers: doc.providers.map((p) => (p === entry ? fresh : p)) }, config, platform);
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
