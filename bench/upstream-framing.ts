/**
 * What upstream framing costs: NDJSON and SSE bodies through src/wire in 64 KB chunks, as
 * they arrive from a socket. For each case: wall time, peak RSS above the start, and the
 * longest the event loop was blocked (the gap a 1 ms interval timer saw) — what `/health`
 * would have waited. "before" is the line buffer the Ollama converter had (append, then
 * rescan the whole buffer from its start for every chunk), for comparison.
 *   bun bench/upstream-framing.ts [--mb 100]
 */
import { ndjsonLines } from "../src/wire/ndjson.ts";
import { sseEvents } from "../src/wire/sse.ts";

const MB = 1024 * 1024;
const at = process.argv.indexOf("--mb");
const size = (at > 0 ? Number(process.argv[at + 1]) : 100) * MB;
const CHUNK = 64 * 1024;

function body(parts: () => Generator<Uint8Array>): ReadableStream<Uint8Array> {
  const it = parts();
  return new ReadableStream({
    async pull(c) {
      // A socket read resolves on a later tick: yield like one, so timers can run between chunks.
      await new Promise((r) => setImmediate(r));
      const n = it.next();
      if (n.done) c.close();
      else c.enqueue(n.value);
    },
  });
}

/** One line of `bytes` (no newline until the end), in CHUNK pieces. */
function* oneLine(prefix: string, bytes: number, suffix: string) {
  yield new TextEncoder().encode(prefix);
  const z = new Uint8Array(CHUNK).fill(0x7a);
  // A fresh buffer per chunk, as a socket delivers them (one reused buffer would hide the cost).
  for (let sent = 0; sent < bytes; sent += CHUNK) yield z.slice();
  yield new TextEncoder().encode(suffix);
}

/** Ordinary traffic: `bytes` of ~1 KB lines. */
function* manyLines(line: string, bytes: number) {
  const lines = Math.floor(CHUNK / line.length);
  const chunk = new TextEncoder().encode(line.repeat(lines));
  for (let sent = 0; sent < bytes; sent += chunk.length) yield chunk.slice();
}

async function measure(name: string, run: () => Promise<string>) {
  Bun.gc(true);
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  let last = performance.now();
  let maxGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 1);
  const t0 = performance.now();
  const outcome = await run();
  const ms = performance.now() - t0;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  console.log(`${name.padEnd(44)} ${(ms / 1000).toFixed(2).padStart(7)} s  +${Math.round((peak - rss0) / MB).toString().padStart(4)} MB peak  loop blocked ≤ ${Math.round(maxGap).toString().padStart(5)} ms  ${outcome}`);
}

async function drain<T>(it: AsyncIterable<T>): Promise<string> {
  let n = 0;
  try {
    for await (const _ of it) n++;
    return `${n} frames`;
  } catch (err) {
    return `${n} frames, then: ${(err as Error).message.slice(0, 60)}…`;
  }
}

/** The former Ollama line buffer, kept here only as the baseline. */
async function before(stream: ReadableStream<Uint8Array>): Promise<string> {
  let buffer = "";
  let n = 0;
  const decoder = new TextDecoder();
  for await (const bytes of stream) {
    buffer += decoder.decode(bytes, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      buffer = buffer.slice(nl + 1);
      n++;
    }
  }
  return `${n} lines`;
}

const mb = Math.round(size / MB);
const target = { target: "bench/m" };
const ndLine = JSON.stringify({ model: "m", message: { role: "assistant", content: "x".repeat(1000) }, done: false }) + "\n";
const sseLine = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "x".repeat(1000) } }] })}\n\n`;

console.log(`upstream framing, ${mb} MB bodies in ${CHUNK / 1024} KB chunks (Bun ${Bun.version})`);
await measure(`ndjson: ${mb} MB of 1 KB lines`, () => drain(ndjsonLines(body(() => manyLines(ndLine, size)), target)));
await measure(`sse: ${mb} MB of 1 KB events`, () => drain(sseEvents(body(() => manyLines(sseLine, size)), target)));
await measure(`ndjson: one ${mb} MB line (capped at 16 MiB)`, () => drain(ndjsonLines(body(() => oneLine('{"message":{"content":"', size, '"}}\n')), target)));
await measure(`sse: one ${mb} MB data line (capped)`, () => drain(sseEvents(body(() => oneLine('data: {"x":"', size, '"}\n\n')), target)));
await measure("ndjson: one 15 MB line (under the cap)", () => drain(ndjsonLines(body(() => oneLine('{"message":{"content":"', 15 * MB, '"}}\n')), target)));
await measure("sse: one 15 MB event (under the cap)", () => drain(sseEvents(body(() => oneLine('data: {"x":"', 15 * MB, '"}\n\n')), target)));
for (const n of [16, 32, 64, 100]) await measure(`before: one ${n} MB line, old line buffer`, () => before(body(() => oneLine("{", n * MB, "}\n"))));
