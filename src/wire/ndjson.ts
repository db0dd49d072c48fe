/**
 * NDJSON framing (Ollama's `/api/chat`): bytes in, complete lines out. Splitting is linear —
 * each byte is looked at once, and the pieces of a line are joined only when its newline
 * arrives — and a line may not grow past the frame cap, so neither a huge line nor endless
 * bytes without a newline can stall the event loop or grow memory without bound.
 */
import { UpstreamBody, type BodyOptions } from "./body.ts";
import { frameTooLarge, MAX_FRAME_BYTES, type FrameLimits } from "./limits.ts";

const LF = 10;

export class NdjsonSplitter {
  private parts: Uint8Array[] = [];
  private size = 0;
  private readonly decoder = new TextDecoder();
  private readonly max: number;

  constructor(
    private readonly target: string,
    limits: FrameLimits = {},
  ) {
    this.max = limits.maxFrameBytes ?? MAX_FRAME_BYTES;
  }

  /**
   * Bytes in (split anywhere); every line completed by them out, without its newline. A line
   * over the cap fails the next call, so the lines before it in the same bytes still go out.
   */
  push(bytes: Uint8Array): string[] {
    if (this.failed) throw this.failed;
    const lines: string[] = [];
    let start = 0;
    for (let nl = bytes.indexOf(LF); nl >= 0; nl = bytes.indexOf(LF, start)) {
      if (!this.take(bytes.subarray(start, nl))) return lines;
      const line = this.flush();
      if (line) lines.push(line);
      start = nl + 1;
    }
    if (start < bytes.length) this.take(bytes.subarray(start));
    if (this.failed && !lines.length) throw this.failed;
    return lines;
  }

  /** The body ended: a last line without a newline still counts. */
  end(): string[] {
    if (this.failed) throw this.failed;
    const line = this.flush();
    return line ? [line] : [];
  }

  private failed: Error | undefined;

  private take(piece: Uint8Array): boolean {
    this.size += piece.length;
    if (this.size > this.max) {
      this.parts = [];
      this.failed = frameTooLarge(this.target, "line", this.max);
      return false;
    }
    if (piece.length) this.parts.push(piece);
    return true;
  }

  private flush(): string {
    const parts = this.parts;
    this.parts = [];
    this.size = 0;
    if (!parts.length) return "";
    // A newline never splits a UTF-8 sequence, so each line decodes on its own.
    const line = this.decoder.decode(parts.length === 1 ? parts[0] : Buffer.concat(parts));
    return line.trim() ? line : "";
  }
}

/** An NDJSON body, one batch of lines per network chunk; every non-blank line counts as progress. */
export async function* ndjsonBatches(body: ReadableStream<Uint8Array>, opts: BodyOptions & FrameLimits): AsyncGenerator<string[]> {
  const upstream = new UpstreamBody(body, opts);
  const splitter = new NdjsonSplitter(opts.target, opts);
  for await (const bytes of upstream.chunks()) {
    const lines = splitter.push(bytes);
    if (!lines.length) continue;
    upstream.progress();
    yield lines;
  }
  const last = splitter.end();
  if (last.length) yield last;
}

/** An NDJSON body as lines, one by one. */
export async function* ndjsonLines(body: ReadableStream<Uint8Array>, opts: BodyOptions & FrameLimits): AsyncGenerator<string> {
  for await (const lines of ndjsonBatches(body, opts)) yield* lines;
}
