/**
 * Pure helpers over a stream of Anthropic events: the guarantee that every stream ends with
 * `message_stop` or `error` (Ollama just stops on a mid-stream failure), and the
 * aggregator that turns events into the non-streaming Message.
 */
import { AtradError } from "./errors.ts";
import type { Message, ResponseBlock, StreamEvent } from "./types.ts";

export function errorEvent(type: string, message: string): StreamEvent {
  return { type: "error", error: { type, message } };
}

/**
 * A stream of events read in batches: every event one upstream read completed, so the relay
 * awaits once per network chunk rather than once per event. Iterating it event by event
 * (tests, the aggregator) flattens the same batches; a stream is read one way, once.
 */
export interface BatchedEvents extends AsyncIterable<StreamEvent> {
  batches(): AsyncGenerator<StreamEvent[], void, undefined>;
}

class Batches implements BatchedEvents {
  constructor(private readonly source: () => AsyncGenerator<StreamEvent[], void, undefined>) {}

  batches() {
    return this.source();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<StreamEvent> {
    for await (const batch of this.source()) yield* batch;
  }
}

export function batched(source: () => AsyncGenerator<StreamEvent[], void, undefined>): BatchedEvents {
  return new Batches(source);
}

/** `events` in batches: its own when it has them, else each event alone. */
export function batchesOf(events: AsyncIterable<StreamEvent>): AsyncGenerator<StreamEvent[], void, undefined> {
  const own = (events as Partial<BatchedEvents>).batches;
  if (typeof own === "function") return own.call(events);
  return (async function* () {
    for await (const e of events) yield [e];
  })();
}

/**
 * Relay `source`, and if it ends without a terminal event (or throws), finish it with an
 * `error` event whose message names `upstream`. Nothing after a terminal event is relayed,
 * and the source is not read further. A thrown error becomes its event through `wire` (the
 * gateway passes its one mapping, which also knows the providers' error type). In batches as
 * the source gives them (see BatchedEvents); `guardStream` is the same, event by event.
 */
export async function* guardBatches(
  source: AsyncIterable<StreamEvent>,
  upstream: string,
  wire: (err: unknown, upstream: string) => AtradError = AtradError.from,
): AsyncGenerator<StreamEvent[]> {
  const it = batchesOf(source);
  try {
    for (;;) {
      let r: IteratorResult<StreamEvent[], void>;
      try {
        r = await it.next();
      } catch (err) {
        yield [wire(err, upstream).toEvent()];
        return;
      }
      if (r.done) break;
      const batch = r.value;
      const end = terminalAt(batch);
      if (end < 0) {
        yield batch;
        continue;
      }
      yield end === batch.length - 1 ? batch : batch.slice(0, end + 1);
      return;
    }
    yield [errorEvent("api_error", `${upstream} ended the stream before message_stop (the upstream failed mid-response)`)];
  } finally {
    // Stopped early (a terminal event, or the reader left): the upstream is not read further.
    await it.return?.(undefined)?.catch(() => {});
  }
}

/** The index of the first `message_stop` or `error` in `batch`, or -1. */
function terminalAt(batch: StreamEvent[]): number {
  for (let i = 0; i < batch.length; i++) {
    const t = batch[i]!.type;
    if (t === "message_stop" || t === "error") return i;
  }
  return -1;
}

/** guardBatches, one event at a time. */
export async function* guardStream(
  source: AsyncIterable<StreamEvent>,
  upstream: string,
  wire: (err: unknown, upstream: string) => AtradError = AtradError.from,
): AsyncGenerator<StreamEvent> {
  for await (const batch of guardBatches(source, upstream, wire)) yield* batch;
}

/**
 * A thinking block always carries `signature`, "" when the backend has none (Ollama never
 * sends one): the official SDK's types and the Vercel AI SDK's schema require a string.
 */
export function withSignature<T extends { type: string }>(block: T): T {
  if (block.type === "thinking" && typeof (block as { signature?: unknown }).signature !== "string") return { ...block, signature: "" };
  return block;
}

/** Fold a stream into one Message; an `error` event becomes a thrown AtradError. */
export async function aggregateStream(source: AsyncIterable<StreamEvent>): Promise<Message> {
  let message: Message | undefined;
  const json = new Map<number, string>();
  for await (const event of source) {
    switch (event.type) {
      case "message_start":
        message = { ...event.message, content: [...event.message.content] };
        break;
      case "content_block_start":
        if (!message) break;
        message.content[event.index] = withSignature(structuredClone(event.content_block) as ResponseBlock);
        break;
      case "content_block_delta": {
        const block = message?.content[event.index] as Record<string, unknown> | undefined;
        if (!block) break;
        const d = event.delta as Record<string, unknown>;
        if (d.type === "text_delta") block.text = String(block.text ?? "") + d.text;
        else if (d.type === "thinking_delta") block.thinking = String(block.thinking ?? "") + d.thinking;
        else if (d.type === "signature_delta") block.signature = String(block.signature ?? "") + d.signature;
        else if (d.type === "input_json_delta") json.set(event.index, (json.get(event.index) ?? "") + d.partial_json);
        break;
      }
      case "content_block_stop": {
        const block = message?.content[event.index] as Record<string, unknown> | undefined;
        const raw = json.get(event.index);
        if (block && raw !== undefined) {
          block.input = raw.trim() === "" ? {} : JSON.parse(raw);
          json.delete(event.index);
        }
        break;
      }
      case "message_delta":
        if (!message) break;
        if (event.delta.stop_reason !== undefined) message.stop_reason = event.delta.stop_reason ?? null;
        if (event.delta.stop_sequence !== undefined) message.stop_sequence = event.delta.stop_sequence ?? null;
        if (event.usage) message.usage = { ...message.usage, ...event.usage } as Message["usage"];
        break;
      case "error":
        throw AtradError.fromEvent(event.error);
    }
  }
  if (!message) throw new AtradError("api_error", "upstream returned no message");
  message.content = message.content.filter(Boolean);
  return message;
}

/** Replay a whole Message as the event sequence a streaming upstream would have sent. */
export async function* messageToEvents(message: Message): AsyncGenerator<StreamEvent> {
  yield { type: "message_start", message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...message.usage, output_tokens: 0 } } };
  for (const [index, block] of message.content.entries()) {
    if (block.type === "text") {
      yield { type: "content_block_start", index, content_block: { type: "text", text: "" } };
      if (block.text) yield { type: "content_block_delta", index, delta: { type: "text_delta", text: String(block.text) } };
    } else if (block.type === "thinking") {
      yield { type: "content_block_start", index, content_block: { type: "thinking", thinking: "", signature: "" } };
      if (block.thinking) yield { type: "content_block_delta", index, delta: { type: "thinking_delta", thinking: String(block.thinking) } };
      if (block.signature) yield { type: "content_block_delta", index, delta: { type: "signature_delta", signature: String(block.signature) } };
    } else if (block.type === "tool_use") {
      yield { type: "content_block_start", index, content_block: { ...block, input: {} } };
      yield { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: JSON.stringify(block.input ?? {}) } };
    } else {
      yield { type: "content_block_start", index, content_block: block };
    }
    yield { type: "content_block_stop", index };
  }
  yield { type: "message_delta", delta: { stop_reason: message.stop_reason, stop_sequence: message.stop_sequence }, usage: { output_tokens: message.usage.output_tokens } };
  yield { type: "message_stop" };
}
