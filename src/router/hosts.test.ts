import { describe, expect, test } from "bun:test";
import { HostPool } from "./hosts.ts";

describe("HostPool", () => {
  test("LeastBusy_FirstWhenIdle", () => {
    const pool = new HostPool(["a", "b"]);
    expect(pool.candidates().map((h) => h.url)).toEqual(["a", "b"]);
    pool.begin(pool.hosts[0]!);
    expect(pool.candidates().map((h) => h.url)).toEqual(["b", "a"]);
  });

  test("Cooldown_AfterMaxFailsInARow_ThenHalfOpen_ThenRecovered", () => {
    const pool = new HostPool(["a", "b"], 2, 1000);
    const a = pool.hosts[0]!;
    pool.begin(a, 0)(false, 0);
    expect(pool.state(a, 0)).toBe("up");
    pool.begin(a, 0)(false, 10);
    expect(pool.state(a, 10)).toBe("cooldown");
    expect(pool.candidates(500).map((h) => h.url)).toEqual(["b"]);
    // After the cooldown: offered first for one trial request at a time.
    expect(pool.candidates(1010).map((h) => h.url)).toEqual(["a", "b"]);
    const end = pool.begin(a, 1010);
    expect(pool.candidates(1010).map((h) => h.url)).toEqual(["b"]);
    end(true, 1020);
    expect(pool.state(a, 1020)).toBe("up");
    expect(a.consecutiveFails).toBe(0);
  });

  test("FailedTrial_ReopensAtOnce", () => {
    const pool = new HostPool(["a", "b"], 1, 1000);
    const a = pool.hosts[0]!;
    pool.begin(a, 0)(false, 0);
    pool.begin(a, 1000)(false, 1000);
    expect(pool.state(a, 1500)).toBe("cooldown");
    expect(pool.state(a, 2000)).toBe("half-open");
  });

  test("LoneHost_NeverCoolsDown", () => {
    const pool = new HostPool(["a"], 1, 1000);
    pool.begin(pool.hosts[0]!, 0)(false, 0);
    expect(pool.candidates(1).map((h) => h.url)).toEqual(["a"]);
  });

  test("SuccessResetsTheCount", () => {
    const pool = new HostPool(["a", "b"], 2, 1000);
    const a = pool.hosts[0]!;
    pool.begin(a, 0)(false, 0);
    pool.begin(a, 0)(true, 0);
    pool.begin(a, 0)(false, 0);
    expect(pool.state(a, 0)).toBe("up");
  });
});

describe("HostPool session affinity", () => {
  test("a session goes back to the host that served it, even when another is idler", () => {
    const pool = new HostPool(["a", "b"]);
    const [a, b] = pool.hosts as [any, any];
    pool.begin(a); // a is busy: the new session lands on b
    expect(pool.candidates(0, "s1")[0]!.url).toBe("b");
    pool.stick("s1", b);
    pool.begin(b);
    pool.begin(b);
    // b is now the busier one; s1 still goes to b, another session to a.
    expect(pool.candidates(0, "s1").map((h) => h.url)).toEqual(["b", "a"]);
    expect(pool.candidates(0, "s2")[0]!.url).toBe("a");
  });

  test("new sessions spread over equally busy hosts", () => {
    const pool = new HostPool(["a", "b"]);
    pool.stick("s1", pool.hosts[0]!);
    expect(pool.candidates(0, "s2")[0]!.url).toBe("b");
  });

  test("a host cooling down is no refuge: the session moves", () => {
    const pool = new HostPool(["a", "b"], 1, 1000);
    const a = pool.hosts[0]!;
    pool.stick("s1", a);
    pool.begin(a, 0)(false, 0);
    expect(pool.candidates(10, "s1").map((h) => h.url)).toEqual(["b"]);
  });
});
