import { describe, expect, test } from "bun:test";
import { releaseWhenIdle } from "./idle-release.ts";

function subject() {
  const state = { inFlight: 0, released: 0 };
  const idle = releaseWhenIdle({ inFlight: () => state.inFlight, quietMs: 5000, checkMs: 1e9, release: () => void state.released++ });
  return { state, idle };
}

describe("releaseWhenIdle", () => {
  test("never without an answered request (a daemon only polled pays nothing)", () => {
    const { state, idle } = subject();
    expect(idle.check(Date.now() + 60_000)).toBe(false);
    expect(state.released).toBe(0);
    idle.stop();
  });

  test("once per quiet spell, only after quietMs without an answer", () => {
    const { state, idle } = subject();
    idle.touch();
    const t = Date.now();
    expect(idle.check(t + 1000)).toBe(false);
    expect(idle.check(t + 6000)).toBe(true);
    expect(idle.check(t + 20_000)).toBe(false);
    idle.touch();
    expect(idle.check(Date.now() + 6000)).toBe(true);
    expect(state.released).toBe(2);
    idle.stop();
  });

  test("not while a request is in flight (a long stream)", () => {
    const { state, idle } = subject();
    idle.touch();
    state.inFlight = 1;
    expect(idle.check(Date.now() + 60_000)).toBe(false);
    state.inFlight = 0;
    expect(idle.check(Date.now() + 60_000)).toBe(true);
    idle.stop();
  });
});
