/**
 * Each model's context window: the provider's `context_window` when configured, else what its
 * kind learns from the server (the window the model is loaded with), cached per
 * provider/model. Stale-while-revalidate like the model catalog, so a slow server delays only
 * the first request that needs its answer; "unknown" is cached too, for a shorter time.
 */
import type { Provider } from "../config/load.ts";
import { specOf } from "../providers/index.ts";
import { countRequestTokens, estimateRequestTokens, type Countable } from "../tokens/count.ts";
import { promptTooLong } from "../providers/shared/overflow.ts";

interface Entry {
  at: number;
  window: number | undefined;
  pending?: Promise<number | undefined>;
}

export class ContextWindows {
  private readonly cache = new Map<string, Entry>();

  constructor(
    private readonly ttlMs = 60_000,
    private readonly timeoutMs = 2_000,
  ) {}

  clear() {
    this.cache.clear();
  }

  /** The window of `model` at `provider`, asking its server at most once per TTL. */
  async of(provider: Provider, model: string): Promise<number | undefined> {
    if (provider.context_window) return provider.context_window;
    const key = `${provider.name}\u0000${model}`;
    const hit = this.cache.get(key);
    if (hit && hit.at > 0) {
      const ttl = hit.window === undefined ? this.ttlMs / 4 : this.ttlMs;
      if (Date.now() - hit.at >= ttl && !hit.pending) void this.ask(key, provider, model, hit);
      return hit.window;
    }
    return hit?.pending ?? this.ask(key, provider, model, hit);
  }

  /** What is known without waiting longer than `ms` (for listings). */
  async within(provider: Provider, model: string, ms: number): Promise<number | undefined> {
    let cancel = () => {};
    const late = new Promise<undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), ms);
      cancel = () => clearTimeout(timer);
    });
    try {
      return await Promise.race([this.of(provider, model), late]);
    } finally {
      cancel();
    }
  }

  private ask(key: string, provider: Provider, model: string, hit: Entry | undefined): Promise<number | undefined> {
    const pending = specOf(provider)
      .contextWindow(provider, model, AbortSignal.timeout(this.timeoutMs))
      .catch(() => "unknown" as const)
      .then((w) => {
        const window = typeof w === "number" ? w : undefined;
        this.cache.set(key, { at: Date.now(), window });
        return window;
      });
    this.cache.set(key, { at: hit?.at ?? 0, window: hit?.window, pending });
    return pending;
  }
}

/**
 * Refuse a request whose prompt does not fit `window`, as Anthropic does (Claude Code then
 * compacts). The cheap estimate decides most requests; only one near the window is counted
 * with the tokenizer (which yields to the event loop).
 */
export async function checkWindow(request: Countable, window: number): Promise<void> {
  if (estimateRequestTokens(request) < window * 0.8) return;
  const tokens = await countRequestTokens(request);
  if (tokens > window) throw promptTooLong(tokens, window);
}
