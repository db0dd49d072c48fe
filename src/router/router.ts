/**
 * Dispatch one request: resolve the model to targets, then try them in order — and within a
 * target, the provider's hosts. A target is abandoned for the next only before anything
 * reached the client: here, before the adapter returned, since the gateway writes nothing
 * but pings until then.
 */
import { AtradError } from "../anthropic/errors.ts";
import type { MessagesRequest } from "../anthropic/schema.ts";
import type { Config, Provider } from "../config/load.ts";
import { adapterOf, specOf } from "../providers/index.ts";
import { withPromptTools } from "../providers/prompt-tools/wrap.ts";
import type { Outcome } from "../providers/types.ts";
import { UpstreamError } from "../providers/upstream.ts";
import { ModelCatalog } from "./catalog.ts";
import { publishIds, type Published } from "./discoverable.ts";
import { HostPool } from "./hosts.ts";
import { Limiter } from "./limiter.ts";
import { WarmPrefixes } from "./warmup.ts";
import { checkWindow, ContextWindows } from "./windows.ts";
import { requestClassOf } from "./classify.ts";
import { affinityKey, Slots } from "./slots.ts";
import { sessionIdOf } from "../anthropic/session.ts";
import { autoTargets, formatTarget, parseTarget, resolveModel, type Target } from "./resolve.ts";
import { unreachable, type DeadTarget } from "./unreachable.ts";

/** The supervisor's view of provider health; the router never probes on its own. */
export interface HealthView {
  /** A reason when the provider's backing service is known to be down, else undefined. */
  downReason(provider: string): string | undefined;
}

export const alwaysHealthy: HealthView = { downReason: () => undefined };

export interface Fallback {
  target: string;
  reason: string;
}

export interface Dispatched {
  outcome: Outcome;
  provider: Provider;
  target: string;
  /** The host that answered. */
  url: string;
  /** Targets that failed or were skipped first. */
  fallbacks: Fallback[];
  rule: string;
  /**
   * Give back the provider slot and the host's in-flight count. The gateway calls it when the
   * response is over, whichever way it ended (idempotent). A generator's `finally` would miss
   * a client that left before the first event was pulled: its slot would leak for good.
   */
  release: () => void;
}

export interface DispatchInput {
  request: MessagesRequest;
  headers: Headers;
  requestId: string;
  signal: AbortSignal;
}

/** Failures that say a host is unwell (not merely that it lacks a model). */
const hostFault = (err: UpstreamError) => err.status === 0 || err.status === 429 || err.status >= 500;

/** How the last request sent to a provider went: it answered (any non-fault status), or not. */
export interface Attempt {
  at: number;
  ok: boolean;
  error?: string;
}

export class Router {
  private providers = new Map<string, Provider>();
  private names = new Set<string>();
  private limiters = new Map<string, Limiter>();
  private pools = new Map<string, HostPool>();
  private slots = new Map<string, Slots>();
  /** The last real attempt at each provider: status reports only what was seen. */
  private attempts = new Map<string, Attempt>();
  readonly catalog: ModelCatalog;
  readonly windows = new ContextWindows();
  private readonly prefixes = new WarmPrefixes();

  constructor(
    private config: Config,
    public health: HealthView = alwaysHealthy,
  ) {
    this.catalog = new ModelCatalog(config.providers);
    this.setConfig(config);
  }

  setConfig(config: Config) {
    this.config = config;
    this.providers = new Map(config.providers.map((p) => [p.name, p]));
    this.names = new Set(this.providers.keys());
    // Keep a provider's limiter and hosts when unchanged, so in-flight work stays counted.
    const limiters = new Map<string, Limiter>();
    const pools = new Map<string, HostPool>();
    for (const p of config.providers) {
      const old = this.limiters.get(p.name);
      limiters.set(p.name, old && old.max === p.max_concurrency ? old : new Limiter(p.name, p.max_concurrency, p.queue_timeout_s * 1000));
      const pool = this.pools.get(p.name);
      const same = pool && pool.hosts.map((h) => h.url).join() === p.urls.join();
      pools.set(p.name, same ? pool : new HostPool(p.urls, p.max_fails, p.cooldown_s * 1000));
    }
    this.limiters = limiters;
    this.pools = pools;
    const slots = new Map<string, Slots>();
    for (const p of config.providers) {
      const count = slotsOf(p);
      if (count) slots.set(p.name, this.slots.get(p.name)?.count === count ? this.slots.get(p.name)! : new Slots(count));
    }
    this.slots = slots;
    this.catalog.setProviders(config.providers);
    this.windows.clear();
  }

  setHealth(health: HealthView) {
    this.health = health;
  }

  limiter(name: string) {
    return this.limiters.get(name);
  }

  pool(name: string) {
    return this.pools.get(name);
  }

  lastAttempt(name: string): Attempt | undefined {
    return this.attempts.get(name);
  }

  /** The `claude-…` ids published for Claude Code's model picker (see discoverable.ts). */
  async published(): Promise<Published[]> {
    const modelless = this.config.providers.filter((p) => !specOf(p).capabilities.listsModels).map((p) => p.name);
    return publishIds(this.config.routes, await this.catalog.all(), modelless);
  }

  async resolve(model: string) {
    const discovered = this.config.routes.default.length ? [] : await this.catalog.all();
    const published = model.startsWith("claude-") ? new Map((await this.published()).map((p) => [p.id, p])) : undefined;
    return resolveModel(model, this.config.routes, this.names, (tier) => autoTargets(tier, discovered), published);
  }

  /**
   * The route for this kind of request, when one is configured and the client did not name
   * its target outright (a `provider/model` or an alias).
   */
  private async routeFor(input: DispatchInput) {
    const resolved = await this.resolve(input.request.model);
    const cls = requestClassOf(input.headers);
    const classRoute = cls === "main" ? undefined : this.config.routes[cls];
    if (!classRoute?.length || resolved.rule === "direct" || resolved.rule.startsWith("alias:")) return resolved;
    return { rule: cls, targets: classRoute.map(parseTarget) };
  }

  /**
   * Prefill the fixed start of a session on the target `model` resolves to (see warmup.ts):
   * the answer is read and dropped. Says why when there is nothing to warm.
   */
  async warmup(model: string, signal: AbortSignal): Promise<{ warmed: boolean; target?: string; reason?: string }> {
    const first = (await this.resolve(model)).targets[0];
    if (!first?.model) return { warmed: false, reason: `"${model}" resolves to no provider/model` };
    const target = formatTarget(first);
    const request = this.prefixes.request(target);
    if (!request) return { warmed: false, target, reason: "no session has run on it since atrad started" };
    // Named outright, as background work: no class route moves it, and it is not remembered.
    const d = await this.dispatch({ request, headers: new Headers({ "x-claude-code-request-class": "auxiliary" }), requestId: `warmup_${crypto.randomUUID()}`, signal });
    try {
      if (d.outcome.type === "events") for await (const _ of d.outcome.events);
    } finally {
      d.release();
    }
    return { warmed: true, target: d.target };
  }

  async dispatch(input: DispatchInput): Promise<Dispatched> {
    let { rule, targets } = await this.routeFor(input);
    if (!targets.length) {
      // The model lists may be behind (a provider that came up after atrad): ask once more before a 404.
      await this.catalog.refreshEmpty();
      ({ rule, targets } = await this.routeFor(input));
    }
    if (!targets.length) {
      // Nothing to route to because every provider that lists models is down: say which, and how to start them.
      const dead = this.unlisted();
      if (dead.length) throw unreachable(input.request.model, rule, dead, this.config.services);
      throw new AtradError(
        "not_found_error",
        `no route for model "${input.request.model}": no [routes] default is configured and no provider reported any models`,
      );
    }
    const fallbacks: Fallback[] = [];
    // Targets that cannot answer whatever the client does: down, refusing, or not configured.
    const dead: DeadTarget[] = [];
    const skip = (d: DeadTarget) => {
      dead.push(d);
      fallbacks.push({ target: d.target, reason: d.reason });
    };
    let last: UpstreamError | undefined;
    for (const t of targets) {
      const provider = this.providers.get(t.provider);
      const label = formatTarget(t);
      if (!provider) {
        skip({ target: label, reason: `no provider named "${t.provider}"` });
        continue;
      }
      const down = this.health.downReason(provider.name);
      if (down) {
        skip({ target: label, provider, reason: down });
        continue;
      }
      try {
        const { outcome, model, url, release } = await this.callTarget(provider, t, input);
        this.attempts.set(provider.name, { at: Date.now(), ok: true });
        const target = formatTarget({ provider: t.provider, model });
        if (requestClassOf(input.headers) === "main") this.prefixes.remember(target, input.request);
        return { outcome, provider, target, url, fallbacks, rule, release };
      } catch (err) {
        if (!(err instanceof UpstreamError)) throw err;
        this.attempts.set(provider.name, hostFault(err) ? { at: Date.now(), ok: false, error: err.message } : { at: Date.now(), ok: true });
        last = err;
        if (err.network === "refused") skip({ target: label, provider, reason: err.message });
        else fallbacks.push({ target: label, reason: err.message });
        if (!err.fallback) break;
      }
    }
    if (dead.length && dead.length === fallbacks.length) throw unreachable(input.request.model, rule, dead, this.config.services);
    // One upstream answer is relayed as the upstream said it (Claude Code reads its text).
    if (last && (fallbacks.length === 1 || !last.fallback)) throw last;
    throw new AtradError(
      "overloaded_error",
      `no target could serve model "${input.request.model}" (route ${rule}): ${fallbacks.map((f) => `${f.target}: ${f.reason}`).join("; ")}`,
      last?.retryAfter ? { headers: { "retry-after": last.retryAfter } } : {},
    );
  }

  /** The providers that list models, with why each could not be asked — if that is all of them. */
  private unlisted(): DeadTarget[] {
    const listing = this.config.providers.filter((p) => specOf(p).capabilities.listsModels);
    const dead = listing.flatMap((p) => {
      const why = this.health.downReason(p.name) ?? this.catalog.known(p.name).error;
      return why ? [{ target: p.name, provider: p, reason: why }] : [];
    });
    return dead.length === listing.length ? dead : [];
  }

  private async callTarget(provider: Provider, t: Target, input: DispatchInput): Promise<{ outcome: Outcome; model: string; url: string; release: () => void }> {
    const native = adapterOf(provider);
    // Servers without tool support (the ATRA MLX server) get tools through the prompt.
    const adapter = provider.tools === "prompt" && input.request.tools?.length ? withPromptTools(native) : native;
    let model = t.model;
    if (!model && specOf(provider).capabilities.listsModels) {
      model = (await this.catalog.models(provider))[0] ?? (await this.catalog.refresh(provider.name))[0] ?? "";
      if (!model) throw new UpstreamError(404, `${provider.name} reports no models; name one as ${provider.name}/<model>`);
    }
    // A prompt the model cannot hold is refused in Anthropic's words before it is sent.
    const contextWindow = model ? await this.windows.of(provider, model) : undefined;
    if (contextWindow) await checkWindow(input.request as never, contextWindow);
    const pool = this.pools.get(provider.name)!;
    // One session's (one agent's) requests stay where its prompt is cached.
    const key = affinityKey(input.headers, sessionIdOf(input.headers, input.request.metadata));
    const hosts = pool.candidates(Date.now(), key);
    if (!hosts.length) throw new UpstreamError(0, `every host of ${provider.name} is cooling down after repeated failures`);

    const release = await this.limiters.get(provider.name)!.acquire(input.signal);
    let last: UpstreamError | undefined;
    for (const host of hosts) {
      const end = pool.begin(host);
      try {
        const slot = key !== undefined ? this.slots.get(provider.name)?.slotFor(host.url, key) : undefined;
        const outcome = await adapter.call({ provider, url: host.url, model, request: input.request, headers: input.headers, requestId: input.requestId, signal: input.signal, contextWindow, slot });
        if (key !== undefined) pool.stick(key, host);
        const finish = () => {
          end(true);
          release();
        };
        if (outcome.type === "body") finish();
        return { outcome, model, url: host.url, release: finish };
      } catch (err) {
        const upstream = err instanceof UpstreamError ? err : undefined;
        end(!(upstream && hostFault(upstream)));
        if (!upstream || !upstream.fallback) {
          release();
          throw err;
        }
        last = upstream;
      }
    }
    release();
    throw last!;
  }
}

/** A provider's server slots, for the kinds whose servers have them (llama.cpp's `slots`). */
function slotsOf(provider: Provider): number | undefined {
  const n = (provider as { slots?: unknown }).slots;
  return typeof n === "number" && n > 0 ? n : undefined;
}
