import { describe, expect, test } from "bun:test";
import { fromEvaluated, fromTimings, fromTotal, withCacheRead } from "./usage.ts";

describe("a prompt's size in Anthropic's split", () => {
  const cases = [
    { name: "OpenAI total with cached_tokens", got: fromTotal(1000, 970), want: { input_tokens: 30, cache_read_input_tokens: 970 } },
    { name: "OpenAI total without cache figures", got: fromTotal(1000, undefined), want: { input_tokens: 1000 } },
    { name: "cached above the total is capped", got: fromTotal(10, 50), want: { input_tokens: 0, cache_read_input_tokens: 10 } },
    { name: "llama.cpp timings", got: fromTimings(970, 30), want: { input_tokens: 30, cache_read_input_tokens: 970 } },
    { name: "Ollama prompt_eval_count against atrad's count", got: fromEvaluated(30, 1000), want: { input_tokens: 30, cache_read_input_tokens: 970 } },
    { name: "a count below what was evaluated is no negative cache", got: fromEvaluated(1200, 1000), want: { input_tokens: 1200, cache_read_input_tokens: 0 } },
  ];
  for (const c of cases) test(c.name, () => expect(c.got).toEqual(c.want));
});

describe("withCacheRead", () => {
  test("Ollama's usage (no cache field) gets the inferred read", () => expect(withCacheRead<Record<string, number>>({ input_tokens: 30, output_tokens: 5 }, 1000)).toEqual({ input_tokens: 30, output_tokens: 5, cache_read_input_tokens: 970 }));
  test("Anthropic's own usage is kept as it came (the same object)", () => {
    const u = { input_tokens: 30, output_tokens: 5, cache_read_input_tokens: 0 };
    expect(withCacheRead(u, 1000)).toBe(u);
  });
  test("no input count: nothing to infer", () => expect(withCacheRead({ output_tokens: 5 }, 1000)).toEqual({ output_tokens: 5 }));
});
