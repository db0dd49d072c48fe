/**
 * The `openai` kind's I/O: POST {url}/v1/chat/completions, always streamed, read as SSE and
 * fed through the pure StreamConverter. GET {url}/v1/models lists models.
 */
import type { StreamEvent } from "../../anthropic/types.ts";
import type { ProviderBase as Provider } from "../schema.ts";
import { estimateRequestTokens } from "../../tokens/count.ts";
import type { Adapter, CallContext, Outcome } from "../types.ts";
import type { OpenaiProvider } from "./spec.ts";
import { authHeaders, fetchUpstream, readJson, streamDeadlines, UpstreamError } from "../upstream.ts";
import type { BodyOptions } from "../../wire/body.ts";
import { readText, tryJson } from "../../wire/body.ts";
import { sseBatches } from "../../wire/sse.ts";
import { chatFailure } from "./errors.ts";
import { convertChunks } from "../../anthropic/converter.ts";
import type { BatchedEvents } from "../../anthropic/stream.ts";
import { normalise, singleToolCall } from "../../anthropic/normalise.ts";
import { rawCalls } from "../shared/raw-calls.ts";
import { hasImages, toChatRequest } from "./request.ts";
import { StreamConverter } from "./stream.ts";
import type { ChatChunk } from "./types.ts";

/** Users write the base URL with or without `/v1` (LM Studio and vLLM document it with). */
export function apiBase(url: string): string {
  const trimmed = url.replace(/\/+$/, "");
  return trimmed.endsWith("/v1") ? trimmed : `${trimmed}/v1`;
}

export const openaiAdapter: Adapter<OpenaiProvider> = {
  async call(ctx: CallContext<OpenaiProvider>): Promise<Outcome> {
    const { provider, request, signal } = ctx;
    const label = `${provider.name}/${ctx.model}`;
    const chat = toChatRequest(normalise(request), ctx.model, { tools: provider.tools, recall: rawCalls.recall });
    const res = await fetchUpstream(
      provider,
      `${apiBase(ctx.url)}/chat/completions`,
      {
        headers: { "content-type": "application/json", accept: "text/event-stream", ...authHeaders(provider) },
        // A string body: Bun sends Content-Length; mlx_lm.server answers 411 to chunked bodies.
        // llama.cpp: the session's own slot, and its prompt kept there for the next turn.
        body: JSON.stringify(ctx.slot === undefined ? chat : { ...chat, id_slot: ctx.slot, cache_prompt: true }),
        target: label,
        // Every 2xx body here is read with streamDeadlines (readText, sseBatches).
        ownDeadlines: true,
      },
      signal,
    );
    if (!res.ok) throw await chatFailure(res, label, hasImages(chat), estimateRequestTokens(request as never));
    if (!res.body) throw new UpstreamError(502, `${label} answered 200 with an empty body`);

    const converter = new StreamConverter({
      model: ctx.model,
      inputTokens: estimateRequestTokens(request as never),
      stopSequences: request.stop_sequences,
      singleToolCall: singleToolCall(request),
      remember: rawCalls.remember,
      label,
    });
    const contentType = res.headers.get("content-type") ?? "";
    if (contentType.includes("application/json")) {
      // A server that ignores `stream: true` answers one chat.completion: same converter.
      const whole = tryJson(await readText(res.body, streamDeadlines(provider, label))) as ChatChunk | null;
      if (!whole || typeof whole !== "object") throw new UpstreamError(502, `${label} answered 200 with a body that is not JSON`);
      return { type: "events", events: fromCompletion(converter, whole) };
    }
    return { type: "events", events: convert(converter, res.body, streamDeadlines(provider, label)) };
  },

  async listModels(provider: Provider, url: string, signal: AbortSignal): Promise<string[]> {
    const res = await fetchUpstream(provider, `${apiBase(url)}/models`, { method: "GET", headers: authHeaders(provider) }, signal);
    if (!res.ok) throw new UpstreamError(res.status, `${provider.name}: cannot list models (GET /v1/models answered ${res.status})`);
    const j = ((await readJson(res, provider.name)) ?? {}) as { data?: Array<{ id?: unknown }> };
    return (Array.isArray(j.data) ? j.data : []).map((m) => m?.id).filter((x): x is string => typeof x === "string");
  },
};

async function* payloads(body: ReadableStream<Uint8Array>, opts: BodyOptions): AsyncGenerator<string[]> {
  for await (const msgs of sseBatches(body, opts)) yield msgs.map((m) => m.data);
}

function convert(converter: StreamConverter, body: ReadableStream<Uint8Array>, opts: BodyOptions): BatchedEvents {
  return convertChunks(converter, payloads(body, opts));
}

async function* fromCompletion(converter: StreamConverter, whole: ChatChunk): AsyncGenerator<StreamEvent> {
  yield* converter.start();
  yield* converter.pushChunk(whole);
  converter.sawEnd();
  yield* converter.end();
}
