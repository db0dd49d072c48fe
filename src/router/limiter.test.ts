import { describe, expect, test } from "bun:test";
import { AtradError } from "../anthropic/errors.ts";
import { Limiter } from "./limiter.ts";

const never = new AbortController().signal;

describe("Limiter", () => {
  test("Unlimited_WhenMaxIsZero", async () => {
    const l = new Limiter("p", 0, 1000);
    await Promise.all([1, 2, 3].map(() => l.acquire(never)));
    expect(l.inFlight).toBe(3);
  });

  test("FIFO_SecondWaitsForFirst", async () => {
    const l = new Limiter("p", 1, 1000);
    const order: number[] = [];
    const r1 = await l.acquire(never);
    const p2 = l.acquire(never).then((r) => (order.push(2), r));
    const p3 = l.acquire(never).then((r) => (order.push(3), r));
    expect(l.queued).toBe(2);
    r1();
    (await p2)();
    (await p3)();
    expect(order).toEqual([2, 3]);
    expect(l.inFlight).toBe(0);
  });

  test("QueueTimeout_Is529WithRetryAfter", async () => {
    const l = new Limiter("victoria", 1, 30);
    await l.acquire(never);
    const err = await l.acquire(never).catch((e) => e);
    expect(err).toBeInstanceOf(AtradError);
    expect(err.status).toBe(529);
    expect(err.headers["retry-after"]).toBe("1");
    expect(l.queued).toBe(0);
  });

  test("Abort_LeavesTheQueue", async () => {
    const l = new Limiter("p", 1, 10_000);
    const release = await l.acquire(never);
    const ac = new AbortController();
    const waiting = l.acquire(ac.signal).catch((e) => e);
    ac.abort();
    expect((await waiting).name).toBe("AbortError");
    expect(l.queued).toBe(0);
    release();
    expect(l.inFlight).toBe(0);
  });

  test("Release_IsIdempotent", async () => {
    const l = new Limiter("p", 2, 1000);
    const r = await l.acquire(never);
    r();
    r();
    expect(l.inFlight).toBe(0);
  });
});
