import { describe, expect, test } from "bun:test";
import { RecordBuilder } from "../gateway/record.ts";
import { percentile, RecentRequests } from "./stats.ts";

const rec = (provider: string, ms: number, status = 200) => {
  const r = new RecordBuilder("id", null, "m", false).finish(status);
  return { ...r, provider, total_ms: ms };
};

describe("RecentRequests", () => {
  test("Stats_LastHourOnly_WithPercentiles", () => {
    const s = new RecentRequests(3);
    s.add(rec("a", 999), 0);
    for (const [i, ms] of [10, 20, 30, 40, 50, 60, 70, 80, 90, 100].entries()) s.add(rec("a", ms, i === 0 ? 500 : 200), 3_600_001 + i);
    const st = s.stats("a", 3_600_020);
    expect(st).toMatchObject({ requests_1h: 10, errors_1h: 1, p50_ms: 50, p95_ms: 100 });
    expect(s.recent()).toHaveLength(3);
    expect(s.recent()[0]!.total_ms).toBe(100);
  });
  test("percentile of nothing is null", () => expect(percentile([], 0.5)).toBeNull());

  test("Bounded_CountsStayExactWhileSamplesRoll", () => {
    const s = new RecentRequests();
    for (let i = 0; i < 10_000; i++) s.add(rec("b", i % 100), 1_000_000 + i);
    const st = s.stats("b", 1_000_000 + 10_000);
    expect(st.requests_1h).toBe(10_000);
    expect(st.p50_ms).toBeGreaterThanOrEqual(45);
    expect(st.p50_ms).toBeLessThanOrEqual(55);
    expect(s.series("b", 3)).toEqual([97, 98, 99]);
  });

  test("Bounded_InBytes_WhateverTheClientsSend", () => {
    // Fields arrive clipped from the gateway; even so, 10,000 distinct sessions with the
    // longest fields a record can hold (over 100 MB offered) stay within the byte budgets.
    const s = new RecentRequests();
    const long = "x".repeat(10_000);
    for (let i = 0; i < 10_000; i++) {
      const r = new RecordBuilder(`req_${i}`, `${i}-${long}`, long, false);
      r.record.fallbacks = Array.from({ length: 20 }, () => ({ target: long, reason: long }));
      s.add({ ...r.finish(500), provider: "p" });
    }
    expect(s.keptBytes.last).toBeLessThanOrEqual(256 * 1024);
    expect(s.keptBytes.sessions).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(s.recent().length).toBeGreaterThan(10);
    expect(JSON.stringify(s.recent()).length).toBeLessThan(256 * 1024);
    expect(s.lastOfSession(`9999-${long}`.slice(0, 256) + "…")?.request_id).toBe("req_9999");
    expect(s.lastOfSession(`0-${long}`.slice(0, 256) + "…")).toBeUndefined();
  });

  test("Sessions_SameIdKeepsOneRecord", () => {
    const s = new RecentRequests();
    for (let i = 0; i < 5; i++) s.add({ ...new RecordBuilder(`req_${i}`, "sess", "m", false).finish(200), provider: "p" });
    expect(s.lastOfSession("sess")?.request_id).toBe("req_4");
    expect(s.keptBytes.sessions).toBe(s.keptBytes.last / 5);
  });
});
