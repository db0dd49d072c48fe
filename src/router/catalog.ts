/**
 * Which models each provider serves: the configured list, else what the upstream reports,
 * cached briefly so `/v1/models` and zero-config routing don't query upstreams per request.
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
    if (provider.models) return provider.models;
    if (!specOf(provider).capabilities.listsModels) return [];
    const hit = this.cache.get(provider.name);
    if (hit && hit.at > 0) {
      if (Date.now() - hit.at >= this.ttlMs && !hit.pending) void this.refresh(provider, hit);
      return hit.models;
    }
    if (hit?.pending) return hit.pending;
    return this.refresh(provider, hit);
  }

  private refresh(provider: Provider, hit: Entry | undefined): Promise<string[]> {
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

  /** What we know without asking anyone (for status). */
  known(name: string): { models: string[]; error?: string } {
    const p = this.providers.find((x) => x.name === name);
    if (p?.models) return { models: p.models };
    const e = this.cache.get(name);
    return { models: e?.models ?? [], error: e?.error };
  }
}
