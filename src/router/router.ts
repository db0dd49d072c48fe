/**
 * Dispatch one request: resolve the model to targets, then try them in order. A target is
 * abandoned for the next only before anything reached the client — here, that is before the
 * adapter returned, since the gateway writes nothing until then.
 */
import { AtradError } from "../anthropic/errors.ts";
import type { MessagesRequest } from "../anthropic/schema.ts";
import type { StreamEvent } from "../anthropic/types.ts";
import type { Config, Provider } from "../config/load.ts";
import { adapterFor } from "../providers/index.ts";
import { withPromptTools } from "../providers/prompt-tools/wrap.ts";
import type { Outcome } from "../providers/types.ts";
import { UpstreamError } from "../providers/upstream.ts";
import { ModelCatalog } from "./catalog.ts";
import { Limiter } from "./limiter.ts";
import { autoTargets, formatTarget, resolveModel, type Target } from "./resolve.ts";

/** The supervisor's view of provider health; the router never probes on its own. */
export interface HealthView {
  /** A reason when the provider's backing service is known to be down, else undefined. */
  downReason(provider: string): string | undefined;
}

export const alwaysHealthy: HealthView = { downReason: () => undefined };

export interface Dispatched {
  outcome: Outcome;
  provider: Provider;
  target: string;
  /** Targets that failed or were skipped first, each "target: reason". */
  fallbacks: string[];
  rule: string;
}

export interface DispatchInput {
  request: MessagesRequest;
  headers: Headers;
  requestId: string;
  signal: AbortSignal;
}

export class Router {
  private providers = new Map<string, Provider>();
  private limiters = new Map<string, Limiter>();
  readonly catalog: ModelCatalog;

  constructor(
    private config: Config,
    private health: HealthView = alwaysHealthy,
  ) {
    this.catalog = new ModelCatalog(config.providers);
    this.setConfig(config);
  }

  setConfig(config: Config) {
    this.config = config;
    this.providers = new Map(config.providers.map((p) => [p.name, p]));
    // Keep a provider's limiter when its limit is unchanged, so in-flight slots stay counted.
    const next = new Map<string, Limiter>();
    for (const p of config.providers) {
      const old = this.limiters.get(p.name);
      next.set(p.name, old && old.max === p.maxConcurrency ? old : new Limiter(p.name, p.maxConcurrency, p.queueTimeoutMs));
    }
    this.limiters = next;
    this.catalog.setProviders(config.providers);
  }

  setHealth(health: HealthView) {
    this.health = health;
  }

  limiter(name: string) {
    return this.limiters.get(name);
  }

  async resolve(model: string) {
    const names = new Set(this.providers.keys());
    const needsAuto = !this.config.routes.default.length;
    const discovered = needsAuto ? await this.catalog.all() : [];
    return resolveModel(model, this.config.routes, names, (tier) => autoTargets(tier, discovered));
  }

  async dispatch(input: DispatchInput): Promise<Dispatched> {
    const { rule, targets } = await this.resolve(input.request.model);
    if (!targets.length) {
      throw new AtradError(
        "not_found_error",
        `no route for model "${input.request.model}": no [routes] default is configured and no provider reported any models`,
      );
    }
    const fallbacks: string[] = [];
    let last: UpstreamError | undefined;
    for (const [i, t] of targets.entries()) {
      const isLast = i === targets.length - 1;
      const provider = this.providers.get(t.provider);
      const label = formatTarget(t);
      if (!provider) {
        fallbacks.push(`${label}: no provider named "${t.provider}"`);
        continue;
      }
      const down = this.health.downReason(provider.name);
      if (down) {
        fallbacks.push(`${label}: ${down}`);
        continue;
      }
      try {
        const { outcome, model } = await this.callTarget(provider, t, input);
        return { outcome, provider, target: formatTarget({ provider: t.provider, model }), fallbacks, rule };
      } catch (err) {
        if (!(err instanceof UpstreamError)) throw err;
        last = err;
        fallbacks.push(`${label}: ${err.message}`);
        if (!err.fallback || isLast) break;
      }
    }
    // A single upstream answer is relayed as the upstream said it (Claude Code reads its text).
    if (last && fallbacks.length === 1) throw last;
    if (last && !last.fallback) throw last;
    throw new AtradError(
      last && last.status === 404 && fallbacks.length === 1 ? "not_found_error" : "overloaded_error",
      `no target could serve model "${input.request.model}" (route ${rule}): ${fallbacks.join("; ")}`,
      last?.retryAfter ? { headers: { "retry-after": last.retryAfter } } : {},
    );
  }

  private async callTarget(provider: Provider, t: Target, input: DispatchInput): Promise<{ outcome: Outcome; model: string }> {
    const native = adapterFor(provider.kind);
    if (!native) throw new AtradError("api_error", `provider "${provider.name}": kind "${provider.kind}" is not supported by this build`);
    const adapter = provider.tools === "prompt" && input.request.tools?.length ? withPromptTools(native) : native;
    let model = t.model;
    if (!model && provider.kind !== "victoria") {
      model = (await this.catalog.models(provider))[0] ?? "";
      if (!model) throw new UpstreamError(404, `${provider.name} reports no models; name one as ${provider.name}/<model>`);
    }
    const release = await this.limiters.get(provider.name)!.acquire(input.signal);
    try {
      const outcome = await adapter.call({
        provider,
        url: provider.urls[0]!,
        model,
        request: input.request,
        headers: input.headers,
        requestId: input.requestId,
        signal: input.signal,
      });
      if (outcome.type === "body") {
        release();
        return { outcome, model };
      }
      return { outcome: { ...outcome, events: releasing(outcome.events, release) }, model };
    } catch (err) {
      release();
      throw err;
    }
  }
}

async function* releasing(events: AsyncIterable<StreamEvent>, release: () => void): AsyncGenerator<StreamEvent> {
  try {
    yield* events;
  } finally {
    release();
  }
}
