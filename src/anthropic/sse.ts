/**
 * Anthropic SSE framing: `event: <type>\ndata: <json>\n\n`. Encoding is ours and
 * lives only here; parsing SSE is src/wire/sse.ts's job.
 */
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

/** A line break in either field would end the frame early and let the rest read as new frames. */
const BREAK = /[\r\n]/;

export function formatEvent(event: StreamEvent): string {
  const raw = (event as { [RAW]?: string })[RAW];
  const data = raw !== undefined && !BREAK.test(raw) ? raw : JSON.stringify(event);
  const type = BREAK.test(event.type) ? JSON.stringify(event.type).slice(1, -1) : event.type;
  return `event: ${type}\ndata: ${data}\n\n`;
}

export function encodeEvent(event: StreamEvent): Uint8Array {
  return encoder.encode(formatEvent(event));
}
