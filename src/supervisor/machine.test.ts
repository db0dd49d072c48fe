/** The pure state machine, case by case: each row is (policy, start, events) → expected end. */
import { describe, expect, test } from "bun:test";
import { DEFAULT_POLICY, initial, isDown, step, type Action, type Event, type Machine, type Policy, type ProbeOutcome } from "./machine.ts";

const owned: Policy = { ...DEFAULT_POLICY, owned: true, restartCommand: false };
const watched: Policy = { ...DEFAULT_POLICY, owned: false, restartCommand: false };
const external: Policy = { ...DEFAULT_POLICY, owned: false, restartCommand: true };

const ok: ProbeOutcome = { outcome: "ok" };
const refused: ProbeOutcome = { outcome: "unreachable", reason: "connection refused" };
const sick: ProbeOutcome = { outcome: "unhealthy", reason: 'status is "unhealthy"' };
const stranger: ProbeOutcome = { outcome: "foreign", reason: "port 11435 is held by pid 9 (ollama)" };

// Events at t = 1000, 2000, … unless a row gives its own time.
type E = Event extends infer T ? (T extends Event ? Omit<T, "now"> & { now?: number } : never) : never;
const probe = (outcome: ProbeOutcome, now?: number): E => ({ type: "probe", outcome, now });
const spawned = (pid = 100): E => ({ type: "spawned", pid });
const exited = (now?: number): E => ({ type: "exited", code: 1, signal: null, now });
const killed: E = { type: "exited", code: null, signal: "SIGKILL" };
const timer = (now?: number): E => ({ type: "timer", now });

function run(policy: Policy, events: E[], start?: Partial<Machine>) {
  let m: Machine = { ...initial(policy, 0), ...start };
  const actions: Action[] = [];
  events.forEach((e, i) => {
    const r = step(m, { ...e, now: e.now ?? (i + 1) * 1000 } as Event, policy);
    m = r.machine;
    actions.push(...r.actions);
  });
  return { m, actions: actions.map((a): string => a.type) };
}

interface Row {
  name: string;
  policy: Policy;
  events: E[];
  start?: Partial<Machine>;
  state: Machine["state"];
  actions?: string[];
  restarts?: number;
  reason?: RegExp;
}

const rows: Row[] = [
  { name: "watched service answering healthy is up", policy: watched, events: [probe(ok)], state: "up", actions: [] },
  { name: "watched service with nothing listening is down at once", policy: watched, events: [probe(refused)], state: "down", reason: /refused/ },
  { name: "200 but unhealthy body is down, not up", policy: watched, events: [probe(sick)], state: "down", reason: /unhealthy/ },
  { name: "a soft status the service reports is degraded", policy: watched, events: [probe({ outcome: "ok", degraded: 'reports status "warning"' })], state: "degraded" },
  { name: "one failed probe after up is degraded, not down", policy: watched, events: [probe(ok), probe(refused)], state: "degraded" },
  { name: "failThreshold failed probes after up is down", policy: watched, events: [probe(ok), probe(refused), probe(refused), probe(refused)], state: "down" },
  { name: "a stranger on a watched port is a conflict", policy: watched, events: [probe(stranger)], state: "conflict", reason: /pid 9/ },
  { name: "watched service recovers to up", policy: watched, events: [probe(refused), probe(ok)], state: "up" },
  { name: "owned service with a free port is spawned", policy: owned, events: [probe(refused)], state: "starting", actions: ["spawn"] },
  { name: "owned service already answering healthy is not duplicated", policy: owned, events: [probe(ok)], state: "up", actions: [] },
  { name: "owned service's port held by a stranger is a conflict, nothing spawned", policy: owned, events: [probe(stranger)], state: "conflict", actions: [] },
  { name: "owned port held by a sick stranger: down, nothing spawned", policy: owned, events: [probe(sick)], state: "down", actions: [] },
  { name: "conflict clears and the owned service is spawned when the port frees", policy: owned, events: [probe(stranger), probe(refused)], state: "starting", actions: ["spawn"] },
  { name: "spawned then healthy is up", policy: owned, events: [probe(refused), spawned(), probe(ok)], state: "up", actions: ["spawn"] },
  { name: "failed probes during start-up are tolerated", policy: owned, events: [probe(refused), spawned(), probe(refused), probe(refused), probe(refused), probe(refused)], state: "starting", actions: ["spawn"] },
  {
    name: "not healthy within startTimeoutMs is killed",
    policy: { ...owned, startTimeoutMs: 5000 },
    events: [probe(refused), spawned(), probe(refused, 10_000)],
    state: "down",
    actions: ["spawn", "kill"],
  },
  { name: "exit after up backs off 1 s", policy: owned, events: [probe(refused), spawned(), probe(ok), killed], state: "backoff", actions: ["spawn", "schedule"], reason: /SIGKILL; restarting in 1s/ },
  { name: "backoff timer respawns and counts a restart", policy: owned, events: [probe(refused), spawned(), probe(ok), killed, timer()], state: "starting", actions: ["spawn", "schedule", "spawn"], restarts: 1 },
  { name: "a stale timer after recovery does nothing", policy: owned, events: [probe(refused), spawned(), exited(), probe(ok), timer()], state: "up", actions: ["spawn", "schedule"] },
  {
    name: "failThreshold failed probes of a running owned service kill it",
    policy: owned,
    events: [probe(refused), spawned(), probe(ok), probe(sick), probe(sick), probe(sick)],
    state: "down",
    actions: ["spawn", "kill"],
  },
  { name: "spawn failure backs off like an exit", policy: owned, events: [probe(refused), { type: "spawn_failed", error: "ENOENT" }], state: "backoff", actions: ["spawn", "schedule"], reason: /ENOENT/ },
  {
    name: "crash loop spends the budget and fails",
    policy: { ...owned, budget: 2 },
    events: [probe(refused), spawned(), exited(), timer(), spawned(), exited(), timer(), spawned(), exited()],
    state: "failed",
    restarts: 2,
    reason: /gave up after 2 restarts/,
  },
  {
    name: "restarts older than the window don't count against the budget",
    policy: { ...owned, budget: 1, windowMs: 10_000 },
    events: [probe(refused), spawned(), exited(1000), timer(2000), spawned(), exited(50_000)],
    state: "backoff",
    restarts: 1,
  },
  { name: "failed stays failed while probes fail", policy: owned, start: { state: "failed", reason: "gave up" }, events: [probe(refused)], state: "failed", actions: [] },
  { name: "failed becomes up when someone starts it by hand", policy: owned, start: { state: "failed", boot: false }, events: [probe(ok)], state: "up" },
  { name: "external without restart command just goes down", policy: watched, events: [probe(ok), probe(refused), probe(refused), probe(refused)], state: "down", actions: [] },
  {
    name: "external with restart command backs off after failThreshold probes",
    policy: external,
    events: [probe(refused), probe(refused), probe(refused)],
    state: "backoff",
    actions: ["schedule"],
  },
  {
    name: "external restart command runs when the backoff elapses",
    policy: external,
    events: [probe(refused), probe(refused), probe(refused), timer()],
    state: "starting",
    actions: ["schedule", "restart_command"],
    restarts: 1,
  },
  {
    name: "external that stays down after its restart backs off again",
    policy: { ...external, startTimeoutMs: 1000 },
    events: [probe(refused), probe(refused), probe(refused), timer(), { type: "command_exited", code: 0, why: "exited 0" }, probe(refused, 60_000)],
    state: "backoff",
    actions: ["schedule", "restart_command", "schedule"],
    reason: /restarting in 2s/,
  },
  {
    name: "a failing restart command backs off with its exit status and output in the reason",
    policy: external,
    events: [probe(refused), probe(refused), probe(refused), timer(), { type: "command_exited", code: 3, why: "exited 3: brew: no such service" }],
    state: "backoff",
    actions: ["schedule", "restart_command", "schedule"],
    reason: /restart command exited 3: brew: no such service; restarting in 2s/,
  },
  {
    name: "while the restart command runs, failed probes never start another one",
    policy: { ...external, startTimeoutMs: 1000 },
    events: [probe(refused), probe(refused), probe(refused), timer(), probe(refused, 60_000), probe(refused, 70_000), probe(refused, 80_000)],
    state: "starting",
    actions: ["schedule", "restart_command"],
    reason: /restart command still running/,
  },
  {
    name: "a health kill's reason survives the exit that follows",
    policy: { ...owned, failThreshold: 2 },
    events: [probe(refused), spawned(), probe(ok), probe(sick), probe(sick), killed],
    state: "backoff",
    reason: /2 failed probes: status is "unhealthy" \(pid 100 stopped; killed by SIGKILL\)/,
  },
  { name: "a port taken at spawn time is a conflict, not a blind spawn", policy: owned, events: [probe(refused), { type: "blocked", reason: "port 11435 is held by pid 9 (ollama)" }], state: "conflict", actions: ["spawn"], reason: /pid 9/ },
  {
    name: "failed: after the cool-off a free port is filled again with a fresh budget",
    policy: { ...owned, cooloffMs: 5000 },
    start: { state: "failed", since: 0, boot: false, attempts: [1, 2, 3, 4, 5] },
    events: [probe(refused, 1000), probe(refused, 6000)],
    state: "starting",
    actions: ["spawn"],
  },
  {
    name: "failed: an external service gets a new round after the cool-off",
    policy: { ...external, cooloffMs: 5000 },
    start: { state: "failed", since: 0, boot: false, attempts: [1, 2, 3, 4, 5] },
    events: [probe(refused, 6000)],
    state: "starting",
    actions: ["restart_command"],
  },
  { name: "failed: a stranger on the port after the cool-off is not spawned over", policy: { ...owned, cooloffMs: 5000 }, start: { state: "failed", since: 0, boot: false }, events: [probe(stranger, 6000)], state: "failed", actions: [] },
  {
    name: "stop request: killed, then nothing restarts it",
    policy: owned,
    events: [probe(refused), spawned(), probe(ok), { type: "request", action: "stop" }, exited(), probe(refused), timer()],
    state: "stopped",
    actions: ["spawn", "kill"],
    reason: /stopped on request/,
  },
  { name: "start request after a stop spawns it", policy: owned, events: [probe(refused), spawned(), { type: "request", action: "stop" }, exited(), { type: "request", action: "start" }], state: "starting", actions: ["spawn", "kill", "spawn"] },
  {
    name: "restart request: killed, then spawned at once without backoff",
    policy: owned,
    events: [probe(refused), spawned(), probe(ok), { type: "request", action: "restart" }, killed],
    state: "starting",
    actions: ["spawn", "kill", "spawn"],
    restarts: 1,
  },
  { name: "restart request brings a failed owned service back", policy: owned, start: { state: "failed", boot: false, attempts: [1, 2, 3, 4, 5] }, events: [{ type: "request", action: "restart" }], state: "starting", actions: ["spawn"] },
  { name: "restart request runs an external service's restart command", policy: external, start: { state: "failed", boot: false }, events: [{ type: "request", action: "restart" }], state: "starting", actions: ["restart_command"] },
  { name: "external conflict is reported, never restarted", policy: external, events: [probe(stranger), probe(stranger), probe(stranger)], state: "conflict", actions: [] },
  { name: "stop kills a running owned child", policy: owned, events: [probe(refused), spawned(), { type: "stop" }], state: "stopped", actions: ["spawn", "kill"] },
  { name: "after stop an exit does not restart", policy: owned, events: [probe(refused), spawned(), { type: "stop" }, exited()], state: "stopped", actions: ["spawn", "kill"] },
  { name: "stop of a watched service kills nothing", policy: watched, events: [probe(ok), { type: "stop" }], state: "stopped", actions: [] },
  { name: "adopted child is watched without a spawn", policy: owned, events: [{ type: "adopted", pid: 7 }, probe(ok)], state: "up", actions: [] },
];

describe("service state machine", () => {
  for (const row of rows) {
    test(row.name, () => {
      const { m, actions } = run(row.policy, row.events, row.start);
      expect(m.state).toBe(row.state);
      if (row.actions) expect(actions).toEqual(row.actions);
      if (row.restarts !== undefined) expect(m.restarts).toBe(row.restarts);
      if (row.reason) expect(m.reason ?? "").toMatch(row.reason);
    });
  }

  test("backoff doubles from base to max and resets only after stableMs healthy", () => {
    const p = { ...owned, budget: 100, backoffBaseMs: 1000, backoffMaxMs: 4000 };
    let m = step(initial(p, 0), { type: "probe", outcome: refused, now: 1 }, p).machine;
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      m = step(m, { type: "spawned", pid: i, now: 2 }, p).machine;
      const r = step(m, { type: "exited", code: 1, signal: null, now: 3 }, p);
      delays.push((r.actions[0] as { ms: number }).ms);
      m = step(r.machine, { type: "timer", now: 4 }, p).machine;
    }
    expect(delays).toEqual([1000, 2000, 4000, 4000]);
    // One healthy probe is not enough: it must stay healthy for stableMs.
    m = step(m, { type: "probe", outcome: ok, now: 5 }, p).machine;
    expect(m.backoffMs).toBe(4000);
    m = step(m, { type: "probe", outcome: ok, now: 5 + p.stableMs }, p).machine;
    expect(m.backoffMs).toBe(1000);
  });

  test("since moves only when the state changes", () => {
    const { m } = run(watched, [probe(refused, 10), probe(refused, 20), probe(refused, 30)]);
    expect(m.since).toBe(10);
  });

  test("router skips down, failed, conflict, backoff and stopped; tries the rest", () => {
    expect(["down", "failed", "conflict", "backoff", "stopped"].every((s) => isDown(s as Machine["state"]))).toBe(true);
    expect(["up", "degraded", "starting"].some((s) => isDown(s as Machine["state"]))).toBe(false);
  });
});
