/** The `anthropic` kind's I/O: POST {url}/v1/messages, relay SSE events as they arrive. */
import { parseSse } from "../../anthropic/sse.ts";
import { messageToEvents } from "../../anthropic/stream.ts";
import type { Message, StreamEvent } from "../../anthropic/types.ts";
import type { Adapter, CallContext, Outcome } from "../types.ts";
import { authHeaders, errorMessageOf, fetchUpstream, upstreamFailure, UpstreamError } from "../upstream.ts";
import { forwardedHeaders, fromUpstreamEvent, toUpstreamRequest } from "./translate.ts";

export const anthropicAdapter: Adapter = {
  async call(ctx: CallContext): Promise<Outcome> {
    const { provider, url, signal } = ctx;
    const label = `${provider.name}/${ctx.model}`;
    const body = JSON.stringify(toUpstreamRequest(ctx.request, ctx.model));
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
      },
      signal,
    );
    if (!res.ok) throw await upstreamFailure(res, label, true, errorMessageOf);

    const contentType = res.headers.get("content-type") ?? "";
    if (!ctx.request.stream) {
      const text = await res.text().catch((err: Error) => {
        // Cut or stalled after the headers: the upstream's failure, not atrad's (a 502/504, not a 500).
        if (signal.aborted) throw err;
        throw new UpstreamError(err?.name === "TimeoutError" ? 504 : 502, `${label} broke off its answer: ${err?.message ?? err}`);
      });
      // A 200 that is not a Message (an error envelope, an empty or cut body) is a failure:
      // relayed as a 200 the client would take it for an answer.
      if (!isMessage(text)) {
        throw new UpstreamError(502, `${label} answered 200 with a body that is not a Message: ${errorMessageOf(text) ?? (text.slice(0, 200) || "empty body")}`, { text, contentType: contentType || "application/json", anthropic: true });
      }
      return { type: "body", status: res.status, body: text, headers: { "content-type": contentType || "application/json" } };
    }
    if (!res.body) throw new UpstreamError(502, `${label} answered with an empty body`);
    if (!contentType.includes("text/event-stream")) {
      // Some compatible servers ignore `stream: true` and answer one JSON Message.
      const message = (await res.json().catch(() => null)) as Message | null;
      if (message?.type !== "message") throw new UpstreamError(502, `${label} answered ${contentType || "no content type"} to a streaming request`);
      return { type: "events", events: messageToEvents(message) };
    }
    return { type: "events", events: relay(res.body) };
  },

  async listModels(provider, url, signal) {
    // Ollama's /v1/models is OpenAI-shaped, Anthropic's is its own: both have data[].id.
    const res = await fetchUpstream(provider, `${url}/v1/models`, { method: "GET", headers: authHeaders(provider) }, signal);
    if (res.ok) {
      const j = (await res.json()) as { data?: Array<{ id?: string }> };
      if (Array.isArray(j.data)) return j.data.map((m) => m.id).filter((x): x is string => typeof x === "string");
    }
    const tags = await fetchUpstream(provider, `${url}/api/tags`, { method: "GET" }, signal);
    if (!tags.ok) throw new UpstreamError(tags.status, `${provider.name}: cannot list models (${tags.status})`);
    const t = (await tags.json()) as { models?: Array<{ name?: string; model?: string }> };
    return (t.models ?? []).map((m) => m.name ?? m.model).filter((x): x is string => typeof x === "string");
  },
};

function isMessage(text: string): boolean {
  try {
    return (JSON.parse(text) as { type?: unknown } | null)?.type === "message";
  } catch {
    return false;
  }
}

async function* relay(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamEvent> {
  for await (const msg of parseSse(body)) {
    const event = fromUpstreamEvent(msg.event, msg.data);
    if (event) yield event;
  }
}
