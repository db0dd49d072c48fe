/**
 * `tools = "prompt"`: wrap any adapter so tools travel in the prompt and come back parsed out
 * of the text. The inner adapter never sees `tools`; the router applies this per request.
 */
import { convertChunks } from "../../anthropic/converter.ts";
import { batchesOf, messageToEvents, type BatchedEvents } from "../../anthropic/stream.ts";
import type { Message, StreamEvent } from "../../anthropic/types.ts";
import type { Adapter, CallContext, Outcome } from "../types.ts";
import { normalise, singleToolCall } from "../../anthropic/normalise.ts";
import { rawCalls } from "../shared/raw-calls.ts";
import { offeredTools, toPromptToolsRequest } from "./request.ts";
import { PromptToolsStream } from "./stream.ts";

export function withPromptTools(inner: Adapter): Adapter {
  return {
    listModels: (provider, url, signal) => inner.listModels(provider, url, signal),
    async call(ctx: CallContext): Promise<Outcome> {
      const names = offeredTools(ctx.request).map((t) => t.name);
      const outcome = await inner.call({ ...ctx, request: toPromptToolsRequest(normalise(ctx.request), rawCalls.recall) });
      const events = outcome.type === "events" ? outcome.events : messageToEvents(JSON.parse(outcome.body) as Message);
      return { type: "events", events: transform(events, new PromptToolsStream(names, undefined, singleToolCall(ctx.request), rawCalls.remember)), ...(outcome.headers ? { headers: outcome.headers } : {}) };
    },
  };
}

function transform(events: AsyncIterable<StreamEvent>, stream: PromptToolsStream): BatchedEvents {
  return convertChunks(stream, batchesOf(events));
}
