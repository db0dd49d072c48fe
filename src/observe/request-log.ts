/**
 * `$ATRAD_HOME/logs/requests.jsonl`: one line per request (DESIGN §6), size-rotated
 * (requests.jsonl → .1 → .2 …). Lines are buffered and appended in batches so the request
 * path never waits on the disk. The record type carries no prompt text and no credentials.
 */
import { appendFile, mkdir, rename, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { RequestRecord } from "../gateway/record.ts";

export interface RequestLogOptions {
  maxBytes?: number;
  keep?: number;
  flushMs?: number;
}

export class RequestLog {
  private buffer: string[] = [];
  private size = -1;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly flushMs: number;

  constructor(
    readonly path: string,
    opts: RequestLogOptions = {},
  ) {
    this.maxBytes = opts.maxBytes ?? 10 * 1024 * 1024;
    this.keep = opts.keep ?? 3;
    this.flushMs = opts.flushMs ?? 200;
  }

  write(record: RequestRecord) {
    this.buffer.push(JSON.stringify(record) + "\n");
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  /** Write what is buffered; resolves when it is on disk. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const lines = this.buffer;
    this.buffer = [];
    this.writing = this.writing.then(() => this.append(lines)).catch(() => {});
    return this.writing;
  }

  private async append(lines: string[]) {
    if (!lines.length) return;
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
