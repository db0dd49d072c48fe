/**
 * The one shape of every stream converter: a pure, stateful translation of one upstream answer
 * into Anthropic events, with no I/O. `start()` gives what is sent as soon as the upstream has
 * answered (`message_start`), `push(chunk)` what one upstream unit gives (an NDJSON line, an SSE
 * payload, an event, a poll result — framing bytes into units is src/wire's job), `end()` what
 * is owed once the upstream closed. A converter fails by throwing AtradError; guardStream turns
 * that into the client's `error` event, so no converter builds error events itself.
 */
import { AtradError } from "./errors.ts";
import { batched, errorEvent, type BatchedEvents } from "./stream.ts";
import type { StreamEvent } from "./types.ts";

export interface Converter<In> {
  start(): StreamEvent[];
  push(chunk: In): StreamEvent[];
  end(): StreamEvent[];
  /** True once the answer is complete: the rest of the upstream's body is not read. */
  readonly done?: boolean;
}

/**
 * An upstream's units, as they arrived together (one network chunk's SSE payloads or NDJSON
 * lines), through a converter: one batch of events per chunk, empty ones skipped.
 */
export function convertChunks<In>(converter: Converter<In>, source: AsyncIterable<In[]>): BatchedEvents {
  return batched(async function* () {
    const first = converter.start();
    if (first.length) yield first;
    for await (const units of source) {
      const out: StreamEvent[] = [];
      try {
        for (const unit of units) {
          const events = converter.push(unit);
          for (let i = 0; i < events.length; i++) out.push(events[i]!);
          if (converter.done) break;
        }
      } catch (err) {
        // The events of the units before the failing one still go out, then the failure.
        if (out.length) yield out;
        throw err;
      }
      if (out.length) yield out;
      if (converter.done) break;
    }
    const last = converter.end();
    if (last.length) yield last;
  });
}

/** An upstream's units, one by one, through a converter. */
export function convertStream<In>(converter: Converter<In>, source: AsyncIterable<In> | Iterable<In>): BatchedEvents {
  return convertChunks(
    converter,
    (async function* () {
      for await (const unit of source) yield [unit];
    })(),
  );
}

/**
 * The events a converter gives for all of `chunks`, its failure included as the `error` event
 * the client would see (for tests and fixtures that replay recorded upstream answers).
 */
export function convertAll<In>(converter: Converter<In>, chunks: Iterable<In>): StreamEvent[] {
  const out: StreamEvent[] = [];
  try {
    out.push(...converter.start());
    for (const chunk of chunks) {
      out.push(...converter.push(chunk));
      if (converter.done) break;
    }
    out.push(...converter.end());
  } catch (err) {
    if (!(err instanceof AtradError)) throw err;
    out.push(errorEvent(err.type, err.message));
  }
  return out;
}
