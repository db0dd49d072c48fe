import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

describe("RequestLog on a failing disk", () => {
  // As root a read-only mode does not stop writes; a path under a regular file (ENOTDIR) does.
  const failingLog = (opts: { retryMs?: number } = {}) => {
    const dir = mkdtempSync(join(tmpdir(), "atrad-log-"));
    const blocker = join(dir, "logs");
    writeFileSync(blocker, "not a directory");
    const reports: string[] = [];
    const log = new RequestLog(join(blocker, "requests.jsonl"), { flushMs: 1, retryMs: opts.retryMs ?? 20, report: (event, message) => reports.push(`${event}: ${message}`) });
    return { log, reports, blocker, path: join(blocker, "requests.jsonl") };
  };

  test("FailedWrite_ReportedOnceKeptAndRetriedUntilItWorks", async () => {
    const { log, reports, blocker, path } = failingLog();
    for (let i = 0; i < 3; i++) log.write(record(i));
    await log.flush();
    for (let i = 3; i < 5; i++) log.write(record(i));
    await log.flush();
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(/^failing: cannot write .*requests\.jsonl: .*(ENOTDIR|EEXIST)/);
    expect(log.health()).toMatchObject({ path, error: expect.stringMatching(/ENOTDIR|EEXIST/), since: expect.any(String), pending: 5, dropped: 0 });
    // The disk comes back: the retry timer writes every record, in order, and says so once.
    rmSync(blocker);
    for (let i = 0; i < 100 && reports.length < 2; i++) await Bun.sleep(20);
    expect(reports[1]).toMatch(/^recovered: .* is writable again/);
    expect(readFileSync(path, "utf8").trim().split("\n").map((l) => JSON.parse(l).request_id)).toEqual(["req_0", "req_1", "req_2", "req_3", "req_4"]);
    expect(log.health()).toMatchObject({ error: null, since: null, pending: 0 });
  });

  test("PendingRecords_BoundedInBytes_OldestDroppedAndCounted", async () => {
    const { log } = failingLog({ retryMs: 60_000 });
    const n = 20_000; // ~ 9 MB of lines against a 4 MB cap
    for (let i = 0; i < n; i++) log.write(record(i));
    await log.flush();
    const h = log.health();
    expect(h.dropped).toBeGreaterThan(0);
    expect(h.pending + h.dropped).toBe(n);
  });
});
