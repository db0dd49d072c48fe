import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RecordBuilder } from "../gateway/record.ts";
import { RequestLog } from "./request-log.ts";

const record = (i: number) => new RecordBuilder(`req_${i}`, "sess", "claude-x", true).finish(200);

describe("RequestLog", () => {
  test("Rotation_KeepsNFilesOfBoundedSize", async () => {
    const dir = mkdtempSync(join(tmpdir(), "atrad-log-"));
    const log = new RequestLog(join(dir, "requests.jsonl"), { maxBytes: 2000, keep: 2, flushMs: 1 });
    for (let i = 0; i < 40; i++) {
      log.write(record(i));
      await log.flush();
    }
    const files = ["requests.jsonl", "requests.jsonl.1", "requests.jsonl.2", "requests.jsonl.3"].map((f) => join(dir, f));
    expect(files.map(existsSync)).toEqual([true, true, true, false]);
    for (const f of files.slice(0, 3)) expect(readFileSync(f).length).toBeLessThanOrEqual(2000);
    // The newest record is in the live file, and every line is whole JSON.
    const live = readFileSync(files[0]!, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(live.at(-1).request_id).toBe("req_39");
  });

  test("Batching_OneFlushWritesAllBufferedLines", async () => {
    const dir = mkdtempSync(join(tmpdir(), "atrad-log-"));
    const log = new RequestLog(join(dir, "r.jsonl"), { flushMs: 10_000 });
    for (let i = 0; i < 5; i++) log.write(record(i));
    expect(existsSync(join(dir, "r.jsonl"))).toBe(false);
    await log.flush();
    expect(readFileSync(join(dir, "r.jsonl"), "utf8").trim().split("\n")).toHaveLength(5);
  });
});
