/**
 * `$ATRAD_HOME/logs/requests.jsonl`: one JSON line per request, size-rotated
 * (requests.jsonl → .1 → .2 …). Lines are buffered and appended in batches so the request
 * path never waits on the disk. The record type carries no prompt text and no credentials.
 *
 * A disk that fails (full, removed, turned read-only) must be visible and not fatal: the first
 * failed append is reported once (`report`, the daemon log) and kept in `health()` (the status
 * document); the lines stay buffered, up to MAX_PENDING_BYTES (the oldest are dropped past that,
 * and counted), and the append is retried every `retryMs` until it works, which is reported
 * once too.
 */
import { appendFile, mkdir, rename, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { RequestRecord } from "../gateway/record.ts";

export interface RequestLogOptions {
  maxBytes?: number;
  keep?: number;
  flushMs?: number;
  retryMs?: number;
  /** Told once when appends start failing and once when they work again. */
  report?: (event: "failing" | "recovered", message: string) => void;
}

/** The request log's state for the status document. */
export interface RequestLogHealth {
  path: string;
  /** Why the last append failed; null while appends work. */
  error: string | null;
  /** When appends started failing (ISO 8601). */
  since: string | null;
  /** Records waiting for the disk. */
  pending: number;
  /** Records given up on since the daemon started, because too many were waiting. */
  dropped: number;
}

const MAX_PENDING_BYTES = 4 * 1024 * 1024;

export class RequestLog {
  private buffer: string[] = [];
  private bufferBytes = 0;
  /** Lines of the write under way: still waiting for the disk, though out of the buffer. */
  private writingLines = 0;
  private size = -1;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private failure: { error: string; since: string } | undefined;
  private dropped = 0;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly flushMs: number;
  private readonly retryMs: number;
  private readonly report: NonNullable<RequestLogOptions["report"]>;

  constructor(
    readonly path: string,
    opts: RequestLogOptions = {},
  ) {
    this.maxBytes = opts.maxBytes ?? 10 * 1024 * 1024;
    this.keep = opts.keep ?? 3;
    this.flushMs = opts.flushMs ?? 200;
    this.retryMs = opts.retryMs ?? 5000;
    this.report = opts.report ?? (() => {});
  }

  write(record: RequestRecord) {
    const line = JSON.stringify(record) + "\n";
    this.buffer.push(line);
    this.bufferBytes += line.length;
    this.dropOldest();
    this.schedule();
  }

  health(): RequestLogHealth {
    return { path: this.path, error: this.failure?.error ?? null, since: this.failure?.since ?? null, pending: this.buffer.length + this.writingLines, dropped: this.dropped };
  }

  /** Write what is buffered; resolves when it is on disk, or when the attempt failed. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const lines = this.buffer;
    this.buffer = [];
    this.bufferBytes = 0;
    this.writing = this.writing.then(() => this.attempt(lines));
    return this.writing;
  }

  private schedule() {
    if (this.timer) return;
    // While the disk fails, wait the retry interval instead of hammering it per request.
    this.timer = setTimeout(() => void this.flush(), this.failure ? this.retryMs : this.flushMs);
    this.timer.unref?.();
  }

  /** A failed batch goes back in front of what came since, the oldest dropped past the cap. */
  private requeue(lines: string[]) {
    this.buffer = lines.concat(this.buffer);
    for (const l of lines) this.bufferBytes += l.length;
    this.dropOldest();
  }

  /** Past MAX_PENDING_BYTES the oldest lines go (and are counted). */
  private dropOldest() {
    let drop = 0;
    while (this.bufferBytes > MAX_PENDING_BYTES && drop < this.buffer.length) this.bufferBytes -= this.buffer[drop++]!.length;
    if (drop) {
      this.buffer.splice(0, drop);
      this.dropped += drop;
    }
  }

  private async attempt(lines: string[]) {
    if (!lines.length) return;
    this.writingLines = lines.length;
    try {
      await this.append(lines);
      this.writingLines = 0;
    } catch (err) {
      this.writingLines = 0;
      this.size = -1; // look at the file afresh next time (it may have been replaced)
      this.requeue(lines);
      const error = `cannot write ${this.path}: ${(err as Error).message}`;
      if (!this.failure) {
        this.failure = { error, since: new Date().toISOString() };
        this.report("failing", `${error}; keeping up to ${MAX_PENDING_BYTES / 1024 / 1024} MB of records and retrying every ${this.retryMs / 1000} s`);
      } else this.failure.error = error;
      this.schedule();
      return;
    }
    if (this.failure) {
      const since = this.failure.since;
      this.failure = undefined;
      this.report("recovered", `${this.path} is writable again (failing since ${since}); ${this.dropped} records were dropped meanwhile`);
    }
  }

  private async append(lines: string[]) {
    if (this.size < 0) {
      await mkdir(dirname(this.path), { recursive: true });
      this.size = await stat(this.path).then((s) => s.size, () => 0);
    }
    const text = lines.join("");
    const bytes = Buffer.byteLength(text);
    if (this.size > 0 && this.size + bytes > this.maxBytes) await this.rotate();
    await appendFile(this.path, text, { mode: 0o600 });
    this.size += bytes;
  }

  private async rotate() {
    for (let i = this.keep - 1; i >= 1; i--) await rename(`${this.path}.${i}`, `${this.path}.${i + 1}`).catch(() => {});
    await rename(this.path, `${this.path}.1`).catch(() => {});
    this.size = 0;
  }
}
