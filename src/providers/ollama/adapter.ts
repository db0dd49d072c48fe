/**
 * The `ollama` kind's I/O: POST {url}/api/chat (always streaming — the gateway aggregates for
 * non-streaming clients, and a stream never hits an idle timeout during a long generation),
 * and GET {url}/api/tags for the model list.
 */
import type { StreamEvent } from "../../anthropic/types.ts";
import { estimateRequestTokens } from "../../tokens/count.ts";
import type { Adapter, CallContext, Outcome } from "../types.ts";
import type { OllamaProvider } from "./spec.ts";
import { authHeaders, fetchUpstream, readJson, streamDeadlines, upstreamFailure, UpstreamError } from "../upstream.ts";
import { convertChunks } from "../../anthropic/converter.ts";
import type { BatchedEvents } from "../../anthropic/stream.ts";
import { normalise, singleToolCall } from "../../anthropic/normalise.ts";
import { ndjsonBatches } from "../../wire/ndjson.ts";
import type { BodyOptions } from "../../wire/body.ts";
import { overflowed } from "../shared/overflow.ts";
import { rawCalls } from "../shared/raw-calls.ts";
import { toOllamaChat } from "./request.ts";
import { OllamaStreamConverter } from "./stream.ts";

export const ollamaAdapter: Adapter<OllamaProvider> = {
  async call(ctx: CallContext<OllamaProvider>): Promise<Outcome> {
    const { provider, url, signal } = ctx;
    const label = `${provider.name}/${ctx.model}`;
    // The window atrad counts against is the one the runner loads with: never a silent truncation.
    const body = toOllamaChat(normalise(ctx.request), ctx.model, { numCtx: provider.num_ctx ?? ctx.contextWindow, nativeTools: provider.tools === "native", recall: rawCalls.recall });
    const res = await fetchUpstream(
      provider,
      `${url}/api/chat`,
      { headers: { "content-type": "application/json", accept: "application/x-ndjson", ...authHeaders(provider) }, body: JSON.stringify(provider.keep_alive === undefined ? body : { ...body, keep_alive: provider.keep_alive }), target: label, ownDeadlines: true },
      signal,
    );
    // 404 unknown model, 400 bad request, ATRA MLX's 429 rate limit and 503 no free slot all
    // come as {"error": "..."}; UpstreamError maps the status and lets the router fall back.
    if (!res.ok) throw overflowed(await upstreamFailure(res, label, false), ctx);
    if (!res.body) throw new UpstreamError(502, `${label} answered with an empty body`);
    const converter = new OllamaStreamConverter({
      model: ctx.model,
      inputTokens: estimateRequestTokens(ctx.request as never),
      stopSequences: ctx.request.stop_sequences,
      singleToolCall: singleToolCall(ctx.request),
      remember: rawCalls.remember,
    });
    return { type: "events", events: ndjsonEvents(res.body, converter, streamDeadlines(provider, label)) };
  },

  async listModels(provider, url, signal) {
    const res = await fetchUpstream(provider, `${url}/api/tags`, { method: "GET", headers: authHeaders(provider) }, signal);
    if (!res.ok) throw new UpstreamError(res.status, `${provider.name}: cannot list models (${res.status})`);
    const j = ((await readJson(res, provider.name)) ?? {}) as { models?: Array<{ name?: string; model?: string }> };
    return (Array.isArray(j.models) ? j.models : []).map((m) => m?.name ?? m?.model).filter((x): x is string => typeof x === "string");
  },
};

/** An NDJSON body through the converter (exported for the property tests). */
export function ndjsonEvents(body: ReadableStream<Uint8Array>, converter: OllamaStreamConverter, opts: BodyOptions = { target: "ollama" }): BatchedEvents {
  return convertChunks(converter, ndjsonBatches(body, opts));
}
