/**
 * A prompt's size in Anthropic's terms. Anthropic counts the part of the prompt served from a
 * cache apart: `input_tokens` is what was processed anew, `cache_read_input_tokens` what was
 * read from the cache, and the prompt is their sum. Local servers say the same thing in three
 * other ways, each mapped here once:
 * - a total and the cached part of it (OpenAI `usage.prompt_tokens` and
 *   `prompt_tokens_details.cached_tokens`: LM Studio, vLLM);
 * - the cached and the evaluated parts (llama.cpp `timings.cache_n`, `timings.prompt_n`);
 * - only the evaluated part (Ollama's `prompt_eval_count`, also its native API's
 *   `input_tokens`): the cached prefix is not counted, so the cache is the prompt's size — as
 *   atrad counts it — less what was evaluated.
 */
import type { Usage } from "../../anthropic/types.ts";

export type PromptUsage = Pick<Usage, "input_tokens" | "cache_read_input_tokens">;

/** `total` prompt tokens of which `cached` came from the cache (undefined: the server doesn't say). */
export function fromTotal(total: number, cached: number | undefined): PromptUsage {
  if (cached === undefined) return { input_tokens: total };
  const read = Math.max(0, Math.min(cached, total));
  return { input_tokens: total - read, cache_read_input_tokens: read };
}

/** llama.cpp's timings: `cache_n` read from the slot's cache, `prompt_n` evaluated. */
export function fromTimings(cacheN: number, promptN: number): PromptUsage {
  return { input_tokens: Math.max(0, promptN), cache_read_input_tokens: Math.max(0, cacheN) };
}

/**
 * Only the `evaluated` tokens are known; `promptSize` is atrad's own count of the prompt. An
 * estimate smaller than what was evaluated means nothing was cached, never a negative cache.
 */
export function fromEvaluated(evaluated: number, promptSize: number): PromptUsage {
  return { input_tokens: evaluated, cache_read_input_tokens: Math.max(0, Math.round(promptSize) - evaluated) };
}

/**
 * An Anthropic-shaped upstream's usage, completed: Anthropic itself always says
 * `cache_read_input_tokens`; Ollama's native API leaves it out and reports its
 * `prompt_eval_count` as `input_tokens`, so the read part is inferred from the prompt's size.
 */
export function withCacheRead<U extends Partial<Usage>>(usage: U, promptSize: number): U {
  if (typeof usage.input_tokens !== "number" || usage.cache_read_input_tokens !== undefined) return usage;
  return { ...usage, ...fromEvaluated(usage.input_tokens, promptSize) };
}
