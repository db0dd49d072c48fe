/**
 * A prompt longer than the model's window, said in Anthropic's own words: Claude Code matches
 * `prompt is too long: N tokens > M maximum` and compacts the conversation, where any other
 * error is retried as it is (and fails again). Backends word their overflow each their own way;
 * `overflowOf` reads them all, so every kind answers with the same 400.
 */
import { estimateRequestTokens } from "../../tokens/count.ts";
import type { CallContext } from "../types.ts";
import { UpstreamError } from "../upstream.ts";

export function promptTooLong(tokens: number, window: number): UpstreamError {
  return new UpstreamError(400, `prompt is too long: ${tokens} tokens > ${window} maximum`);
}

const positive = (x: unknown): number | undefined => (typeof x === "number" && x > 0 ? x : typeof x === "string" && /^\d+$/.test(x) ? Number(x) : undefined);

/**
 * The backend's overflow error (its body text), as [prompt tokens, window]; undefined when the
 * body is not one. `estimate`: atrad's count, for a backend that names only its window.
 */
export function overflowOf(body: string, estimate: number): [number, number] | undefined {
  let j: any;
  try {
    j = JSON.parse(body);
  } catch {}
  // llama.cpp: {"error": {"type": "exceed_context_size_error", "n_prompt_tokens", "n_ctx"}}
  const e = j?.error;
  if (e?.type === "exceed_context_size_error" || e?.code === "context_length_exceeded") {
    const n = positive(e.n_prompt_tokens);
    const m = positive(e.n_ctx);
    if (m) return [n ?? Math.max(estimate, m + 1), m];
  }
  const text = typeof e === "string" ? e : typeof e?.message === "string" ? e.message : typeof j?.message === "string" ? j.message : typeof j?.detail === "string" ? j.detail : body;
  // vLLM / OpenAI: "maximum context length is 8192 tokens. However, you requested 9000 tokens (8900 in the messages, …"
  let m = /maximum context length is (\d+) tokens\. However, (?:you requested|your messages resulted in) (\d+) tokens(?: \((\d+) in the messages)?/i.exec(text);
  if (m) return [Number(m[3] ?? m[2]), Number(m[1])];
  // LM Studio: "Trying to keep the first 9000 tokens when context the overflows. However, the model is loaded with context length of only 8192 tokens …"
  m = /keep the first (\d+) tokens[\s\S]*context length of only (\d+) tokens/i.exec(text);
  if (m) return [Number(m[1]), Number(m[2])];
  // Ollama ≥ 0.12 without truncation, mlx and others: "input length (9000) exceeds maximum context length (8192)"
  m = /(?:input|prompt)(?: length)? \(?(\d+)\)?(?: tokens)? exceeds (?:the )?(?:maximum )?context (?:length|size|window)(?: of)? \(?(\d+)\)?/i.exec(text);
  if (m) return [Number(m[1]), Number(m[2])];
  if (/exceed_context_size_error|the request exceeds the available context size/i.test(text)) {
    const ctx = positive(e?.n_ctx);
    if (ctx) return [positive(e?.n_prompt_tokens) ?? Math.max(estimate, ctx + 1), ctx];
  }
  return undefined;
}

/** A failure before the 200 that is the backend's overflow, in Anthropic's words; others as they are. */
export function overflowed(err: UpstreamError, ctx: Pick<CallContext, "request">): UpstreamError {
  const overflow = err.body ? overflowOf(err.body.text, estimateRequestTokens(ctx.request as never)) : undefined;
  return overflow ? promptTooLong(...overflow) : err;
}
