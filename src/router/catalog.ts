/**
 * Which models each provider serves: the configured list, else what the upstream reports,
 * cached briefly so `/v1/models` and zero-config routing don't query upstreams per request.
 * A cached list can be behind the upstream (at login Ollama often comes up after atrad), so
 * it is asked again at once when its service comes up, and when a request would otherwise
 * be refused for want of a model.
 */
import type { Provider } from "../config/load.ts";
import { specOf } from "../providers/index.ts";

interface Entry {
  at: number;
  models: string[];
  error?: string;
  pending?: Promise<string[]>;
}

export class ModelCatalog {
  private readonly cache = new Map<string, Entry>();

  constructor(
    private providers: Provider[],
    private readonly ttlMs = 30_000,
    private readonly timeoutMs = 3_000,
  ) {}

  setProviders(providers: Provider[]) {
    this.providers = providers;
    this.cache.clear();
  }

  /**
   * Models of one provider; [] when it cannot be asked (the error is kept for status).
   * Stale-while-revalidate: once anything is known, callers get it at once and a refresh runs
   * in the background, so a hung upstream never delays a request on the hot path.
   */
  async models(provider: Provider): Promise<string[]> {
    if (!this.asks(provider)) return provider.models ?? [];
    const hit = this.cache.get(provider.name);
    if (hit && hit.at > 0) {
      if (Date.now() - hit.at >= this.ttlMs && !hit.pending) void this.ask(provider, hit);
      return hit.models;
    }
    if (hit?.pending) return hit.pending;
    return this.ask(provider, hit);
  }

  /**
   * Ask one provider again now, whatever is cached (its service just came up, or a request
   * found no model in the list). Joins a request already in flight rather than adding one.
   */
  refresh(name: string): Promise<string[]> {
    const provider = this.providers.find((p) => p.name === name);
    if (!provider || !this.asks(provider)) return Promise.resolve(this.known(name).models);
    const hit = this.cache.get(name);
    return hit?.pending ?? this.ask(provider, hit);
  }

  /** Ask again every provider whose list is empty (never answered, failed, or had none). */
  async refreshEmpty(): Promise<void> {
    const empty = this.providers.filter((p) => this.asks(p) && !this.cache.get(p.name)?.models.length);
    await Promise.all(empty.map((p) => this.refresh(p.name)));
  }

  /** Whether the list comes from the upstream (not from config, and the kind names models). */
  private asks(provider: Provider): boolean {
    return !provider.models && specOf(provider).capabilities.listsModels;
  }

  private ask(provider: Provider, hit: Entry | undefined): Promise<string[]> {
    const pending = specOf(provider)
      .listModels(provider, provider.urls[0]!, AbortSignal.timeout(this.timeoutMs))
      .then((models) => {
        this.cache.set(provider.name, { at: Date.now(), models });
        return models;
      })
      .catch((err: Error) => {
        // A failed probe is cached too (briefly), so a down upstream costs one timeout per TTL.
        this.cache.set(provider.name, { at: Date.now() - this.ttlMs / 2, models: hit?.models ?? [], error: err.message });
        return hit?.models ?? [];
      });
    this.cache.set(provider.name, { at: hit?.at ?? 0, models: hit?.models ?? [], error: hit?.error, pending });
    return pending;
  }

  /** Every provider's models, asked in parallel, in provider order. */
  async all(): Promise<Array<{ provider: string; models: string[] }>> {
    return Promise.all(this.providers.map(async (p) => ({ provider: p.name, models: await this.models(p) })));
  }

  /** When the provider was last asked for its models, and whether it answered (status evidence). */
  observed(name: string): { at: number; ok: boolean; error?: string } | undefined {
    const e = this.cache.get(name);
    if (!e || (e.at <= 0 && !e.error)) return undefined;
    return e.error ? { at: e.at + this.ttlMs / 2, ok: false, error: e.error } : { at: e.at, ok: true };
  }

  /** What we know without asking anyone (for status). */
  known(name: string): { models: string[]; error?: string } {
    const p = this.providers.find((x) => x.name === name);
    if (p?.models) return { models: p.models };
    const e = this.cache.get(name);
    return { models: e?.models ?? [], error: e?.error };
  }
}
