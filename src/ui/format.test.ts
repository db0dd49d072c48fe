import { expect, test } from "bun:test";
import { clock, duration, ms, secondsSince, sparkPoints, tokens, tone } from "./client/format.ts";

test("durations read at a glance: two units at most", () => {
  expect([duration(0), duration(59.9), duration(61), duration(3_599), duration(3_600 + 240), duration(86_400 * 2 + 3_600 * 3 + 5)]).toEqual(["0s", "59s", "1m 01s", "59m 59s", "1h 04m", "2d 3h"]);
  expect([duration(null), duration(undefined), duration(-1), duration(Number.NaN)]).toEqual(["—", "—", "—", "—"]);
});

test("milliseconds switch to seconds where people stop counting them", () => {
  expect([ms(0), ms(849.6), ms(1_234), ms(14_400), ms(null)]).toEqual(["0 ms", "850 ms", "1.2 s", "14 s", "—"]);
});

test("ages, wall-clock times and token pairs", () => {
  expect(secondsSince("2026-01-01T00:00:00Z", Date.parse("2026-01-01T00:01:30Z"))).toBe(90);
  expect(secondsSince("not a time")).toBeNull();
  expect(secondsSince(null)).toBeNull();
  expect(clock(new Date(2026, 0, 1, 7, 5, 9).toISOString())).toBe("07:05:09");
  expect([tokens(3, 4), tokens(3, null), tokens(null, null)]).toEqual(["3 → 4", "3 → ?", "—"]);
});

test("sparkline points span the box, start the y axis at zero and survive one or no value", () => {
  expect(sparkPoints([], 100, 20)).toBe("");
  expect(sparkPoints([5], 100, 20)).toBe("2,10 98,10");
  const pts = sparkPoints([0, 50, 100], 100, 20).split(" ").map((p) => p.split(",").map(Number));
  expect(pts).toEqual([[2, 18], [50, 10], [98, 2]]);
  // Equal values sit at the top (they are the maximum), not on the zero line.
  expect(sparkPoints([7, 7], 10, 10)).toBe("2,2 8,2");
});

test("every status-document state maps to a tone", () => {
  const tones = ["up", "degraded", "down", "starting", "backoff", "failed", "conflict", "stopped"].map(tone);
  expect(tones).toEqual(["ok", "warn", "bad", "warn", "warn", "bad", "bad", "idle"]);
  expect(tone("something-new")).toBe("idle");
});
