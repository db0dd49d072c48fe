/**
 * Anthropic SSE framing: `event: <type>\ndata: <json>\n\n` (DESIGN §4.1). Encoding is ours and
 * lives only here; parsing upstream SSE is eventsource-parser's job (see parseSse).
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { StreamEvent } from "./types.ts";

const encoder = new TextEncoder();

/**
 * An event relayed from an Anthropic upstream may carry the exact JSON it arrived as, so it is
 * written back without a second JSON.stringify. Non-enumerable on purpose: `{ ...event, index }`
 * (renumbering) makes a new object without it, so a changed event is always re-serialised.
 */
const RAW = Symbol("atrad.rawJson");

export function withRawJson<T extends object>(event: T, json: string): T {
  Object.defineProperty(event, RAW, { value: json, enumerable: false });
  return event;
}

export function formatEvent(event: StreamEvent): string {
  const raw = (event as { [RAW]?: string })[RAW];
  return `event: ${event.type}\ndata: ${raw ?? JSON.stringify(event)}\n\n`;
}

export function encodeEvent(event: StreamEvent): Uint8Array {
  return encoder.encode(formatEvent(event));
}

/** Read an SSE byte stream and yield each message (event name + raw data). */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<EventSourceMessage> {
  const queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (m) => queue.push(m) });
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    while (queue.length) yield queue.shift()!;
  }
  parser.feed(decoder.decode());
  parser.reset({ consume: true });
  while (queue.length) yield queue.shift()!;
}
