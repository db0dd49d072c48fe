/** The `anthropic` kind's I/O: POST {url}/v1/messages, relay SSE events as they arrive. */
import { messageToEvents, withSignature } from "../../anthropic/stream.ts";
import { AtradError } from "../../anthropic/errors.ts";
import type { Message, StreamEvent } from "../../anthropic/types.ts";
import type { Adapter, CallContext, Outcome } from "../types.ts";
import type { AnthropicProvider } from "./spec.ts";
import { authHeaders, errorMessageOf, fetchUpstream, readJson, streamDeadlines, upstreamFailure, UpstreamError } from "../upstream.ts";
import { convertChunks, type Converter } from "../../anthropic/converter.ts";
import type { BatchedEvents } from "../../anthropic/stream.ts";
import { systemOf } from "../../anthropic/normalise.ts";
import { readText, tryJson, type BodyOptions } from "../../wire/body.ts";
import { brokenUpstream } from "../../wire/limits.ts";
import { sseBatches, type SseMessage } from "../../wire/sse.ts";
import { estimateRequestTokens } from "../../tokens/count.ts";
import { withCacheRead } from "../shared/usage.ts";
import { overflowed } from "../shared/overflow.ts";
import { forwardedHeaders, fromUpstreamEvent, toUpstreamRequest } from "./translate.ts";

export const anthropicAdapter: Adapter<AnthropicProvider> = {
  async call(ctx: CallContext<AnthropicProvider>): Promise<Outcome> {
    const { provider, url, signal } = ctx;
    const label = `${provider.name}/${ctx.model}`;
    const body = JSON.stringify(toUpstreamRequest({ request: ctx.request, system: systemOf(ctx.request.system) }, ctx.model));
    const res = await fetchUpstream(
      provider,
      `${url}/v1/messages`,
      {
        headers: {
          "content-type": "application/json",
          accept: ctx.request.stream ? "text/event-stream" : "application/json",
          ...forwardedHeaders(ctx.headers),
          ...authHeaders(provider),
        },
        body,
        target: label,
        // Every 2xx body here is read with streamDeadlines (readText, sseBatches, ndjsonBatches).
        ownDeadlines: true,
      },
      signal,
    );
    // Anthropic's own overflow already has its wording; Ollama's is mapped to it.
    if (!res.ok) throw overflowed(await upstreamFailure(res, label, true), ctx);

    const contentType = res.headers.get("content-type") ?? "";
    if (!ctx.request.stream) {
      // Cut or stalled after the headers: the upstream's failure, not atrad's (a 502/504, not a 500).
      const text = res.body ? await readText(res.body, streamDeadlines(provider, label)).catch(asUpstreamError) : "";
      // A 200 that is not a Message (an error envelope, an empty or cut body) is a failure:
      // relayed as a 200 the client would take it for an answer.
      const message = tryJson(text) as Message | null | undefined;
      if (message?.type !== "message") {
        throw new UpstreamError(502, `${label} answered 200 with a body that is not a Message: ${errorMessageOf(text) ?? (text.slice(0, 200) || "empty body")}`, { text, contentType: contentType || "application/json", anthropic: true });
      }
      return { type: "body", status: res.status, body: completeBody(message, promptSize(ctx)) ?? text, headers: { "content-type": contentType || "application/json" } };
    }
    if (!res.body) throw new UpstreamError(502, `${label} answered with an empty body`);
    if (!contentType.includes("text/event-stream")) {
      // Some compatible servers ignore `stream: true` and answer one JSON Message.
      const message = tryJson(await readText(res.body, streamDeadlines(provider, label)).catch(asUpstreamError)) as Message | undefined;
      if (message?.type !== "message") throw new UpstreamError(502, `${label} answered ${contentType || "no content type"} to a streaming request`);
      return { type: "events", events: messageToEvents(message.usage ? { ...message, usage: withCacheRead(message.usage, promptSize(ctx)) } : message) };
    }
    return { type: "events", events: relay(res.body, streamDeadlines(provider, label), promptSize(ctx)) };
  },

  async listModels(provider, url, signal) {
    // Ollama's /v1/models is OpenAI-shaped, Anthropic's is its own: both have data[].id.
    const res = await fetchUpstream(provider, `${url}/v1/models`, { method: "GET", headers: authHeaders(provider) }, signal);
    if (res.ok) {
      const j = ((await readJson(res, provider.name)) ?? {}) as { data?: Array<{ id?: string }> };
      if (Array.isArray(j.data)) return j.data.map((m) => m?.id).filter((x): x is string => typeof x === "string");
    }
    const tags = await fetchUpstream(provider, `${url}/api/tags`, { method: "GET" }, signal);
    if (!tags.ok) throw new UpstreamError(tags.status, `${provider.name}: cannot list models (${tags.status})`);
    const t = ((await readJson(tags, provider.name)) ?? {}) as { models?: Array<{ name?: string; model?: string }> };
    return (Array.isArray(t.models) ? t.models : []).map((m) => m?.name ?? m?.model).filter((x): x is string => typeof x === "string");
  },
};

/** Nothing has reached the client yet: a broken body is still a failure the router may fall back from. */
function asUpstreamError(err: unknown): never {
  if (err instanceof AtradError) throw new UpstreamError(err.status, err.message);
  throw err;
}

/** atrad's own (cheap) count of the prompt: Ollama's usage says only what it evaluated. */
const promptSize = (ctx: CallContext<AnthropicProvider>) => estimateRequestTokens(ctx.request as never);

/**
 * The body re-serialised when a thinking block lacks its signature (Ollama sends none and
 * clients require it) or its usage lacks the cache read (Ollama's); undefined when the
 * upstream's own bytes can be relayed as they are.
 */
function completeBody(message: Message, prompt: number): string | undefined {
  const unsigned = Array.isArray(message.content) && message.content.some((b) => b?.type === "thinking" && typeof b.signature !== "string");
  const usage = message.usage && typeof message.usage === "object" ? withCacheRead(message.usage, prompt) : message.usage;
  if (!unsigned && usage === message.usage) return undefined;
  return JSON.stringify({ ...message, usage, content: unsigned ? message.content.map((b) => (b ? withSignature(b) : b)) : message.content });
}

/** An event type is a name; anything else (a line break above all) is not relayed. */
const EVENT_TYPE = /^[A-Za-z0-9_.:-]{1,100}$/;

/** The anthropic kind's converter: each upstream SSE message relayed as the event it is. */
class Relay implements Converter<SseMessage> {
  constructor(
    private readonly target: string,
    private readonly prompt: number,
  ) {}

  start(): StreamEvent[] {
    return [];
  }

  push(msg: SseMessage): StreamEvent[] {
    let event: StreamEvent | undefined;
    try {
      event = fromUpstreamEvent(msg.event, msg.data);
    } catch {
      throw brokenUpstream(this.target, `sent an event whose data is not JSON: ${msg.data.slice(0, 200)}`);
    }
    if (!event) return [];
    if (!EVENT_TYPE.test(event.type)) throw brokenUpstream(this.target, `sent an event whose type is not a name: ${JSON.stringify(event.type).slice(0, 80)}`);
    return [withUsage(event, this.prompt)];
  }

  end(): StreamEvent[] {
    return [];
  }
}

function relay(body: ReadableStream<Uint8Array>, opts: BodyOptions, prompt: number): BatchedEvents {
  return convertChunks(new Relay(opts.target, prompt), sseBatches(body, opts));
}

/**
 * The final usage (message_delta) with the cache read said (a copy, so re-serialised).
 * message_start is left alone: Ollama sends it before any count exists.
 */
function withUsage(event: StreamEvent, prompt: number): StreamEvent {
  if (event.type === "message_delta" && event.usage) {
    const usage = withCacheRead(event.usage, prompt);
    return usage === event.usage ? event : { ...event, usage };
  }
  return event;
}
