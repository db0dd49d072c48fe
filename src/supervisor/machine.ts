/**
 * One service's life as a pure state machine: step(machine, event, policy) → (machine, actions).
 * No clocks, timers, sockets or processes here — events carry `now`, and the supervisor loop
 * carries out the actions — so every restart/backoff/budget rule is a table-driven unit test.
 *
 * Two kinds of service share it:
 *  - owned (config `command`): atrad spawns it, restarts it after exit or after repeated failed
 *    probes, and kills it at shutdown;
 *  - external: atrad only watches; with a `restart` command it runs that when the service stays
 *    down. Both recover under the same exponential backoff and restart budget.
 */

export type ServiceState = "up" | "degraded" | "down" | "starting" | "backoff" | "failed" | "conflict" | "stopped";

/** What one health probe found, already classified by the probe and port lookup. */
export type ProbeOutcome =
  /** Healthy; `degraded` names a soft warning the service itself reports (MLX "warning"). */
  | { outcome: "ok"; degraded?: string }
  /** It is this service answering, and it says (or shows by 5xx/timeout) that it is not well. */
  | { outcome: "unhealthy"; reason: string }
  /** Nothing listens on the port. */
  | { outcome: "unreachable"; reason: string }
  /** Something else holds the port (e.g. Ollama's desktop gateway on the MLX port). */
  | { outcome: "foreign"; reason: string };

export type Event =
  | { type: "probe"; outcome: ProbeOutcome; now: number }
  | { type: "spawned"; pid: number; now: number }
  /** A child from a previous atrad (found through the pidfile) is taken over instead of duplicated. */
  | { type: "adopted"; pid: number; now: number }
  | { type: "exited"; code: number | null; signal: string | null; now: number }
  | { type: "spawn_failed"; error: string; now: number }
  | { type: "timer"; now: number }
  | { type: "stop"; now: number };

export type Action =
  | { type: "spawn" }
  | { type: "kill"; reason: string }
  | { type: "restart_command" }
  | { type: "schedule"; ms: number };

export interface Policy {
  owned: boolean;
  /** External service with a `restart` command. */
  restartCommand: boolean;
  /** Consecutive failed probes of a running service before it is called down (and recovered). */
  failThreshold: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** At most `budget` restarts within `windowMs`; one more needed → `failed`. */
  budget: number;
  windowMs: number;
  /** How long a (re)started service may take to answer healthy before it counts as failed. */
  startTimeoutMs: number;
}

export const DEFAULT_POLICY: Omit<Policy, "owned" | "restartCommand"> = {
  failThreshold: 3,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  budget: 5,
  windowMs: 10 * 60_000,
  startTimeoutMs: 60_000,
};

export interface Machine {
  state: ServiceState;
  since: number;
  /** Why it is in this state (null when up); shown as `last_error`. */
  reason: string | null;
  /** No probe has been seen yet: the first one decides whether an owned service must be spawned. */
  boot: boolean;
  /** Our own process (spawned or adopted) is alive. */
  running: boolean;
  pid: number | null;
  stopping: boolean;
  /** Consecutive failed probes. */
  failures: number;
  restarts: number;
  /** Times of recent restarts, for the budget window. */
  attempts: number[];
  /** Delay before the next restart. */
  backoffMs: number;
  /** Why atrad is stopping its process: kept for the exit that follows, so the cause survives. */
  killReason: string | null;
}

export function initial(policy: Policy, now: number): Machine {
  return {
    state: "starting",
    since: now,
    reason: policy.owned ? "waiting for the first probe before starting" : "waiting for the first probe",
    boot: true,
    running: false,
    pid: null,
    stopping: false,
    failures: 0,
    restarts: 0,
    attempts: [],
    backoffMs: policy.backoffBaseMs,
    killReason: null,
  };
}

export interface Step {
  machine: Machine;
  actions: Action[];
}

/** Enter a state; `since` moves only when the state really changes. */
function to(m: Machine, state: ServiceState, reason: string | null, now: number): Machine {
  return { ...m, state, reason, since: m.state === state ? m.since : now };
}

const keep = (machine: Machine): Step => ({ machine, actions: [] });

export function step(m: Machine, ev: Event, p: Policy): Step {
  if (m.stopping) return afterStop(m, ev);
  switch (ev.type) {
    case "stop": {
      const machine = { ...to(m, "stopped", "atrad is shutting down", ev.now), stopping: true };
      return { machine, actions: m.running ? [{ type: "kill", reason: "shutdown" }] : [] };
    }
    case "spawned":
    case "adopted":
      return keep({
        ...to(m, "starting", ev.type === "adopted" ? `adopted pid ${ev.pid} left by a previous atrad` : `started pid ${ev.pid}`, ev.now),
        running: true,
        pid: ev.pid,
        failures: 0,
        killReason: null,
      });
    case "spawn_failed":
      return recover({ ...m, running: false, pid: null }, p, ev.now, `could not start: ${ev.error}`);
    case "exited": {
      const how = ev.signal ? `killed by ${ev.signal}` : `exited with code ${ev.code}`;
      const why = m.killReason ? `${m.killReason} (pid ${m.pid} stopped; ${how})` : `pid ${m.pid} ${how}`;
      return recover({ ...m, running: false, pid: null, killReason: null }, p, ev.now, why);
    }
    case "timer":
      if (m.state !== "backoff") return keep(m); // a stale timer: the service recovered meanwhile
      return {
        machine: {
          ...to(m, "starting", p.owned ? "restarting" : "ran the restart command", ev.now),
          restarts: m.restarts + 1,
          attempts: [...m.attempts, ev.now],
          failures: 0,
        },
        actions: [p.owned ? { type: "spawn" } : { type: "restart_command" }],
      };
    case "probe":
      return probe(m, ev.outcome, p, ev.now);
  }
}

function afterStop(m: Machine, ev: Event): Step {
  // Once stopping, only the children's exits matter; nothing is restarted.
  if (ev.type === "exited") return keep({ ...m, running: false, pid: null });
  if (ev.type === "spawned" || ev.type === "adopted") return { machine: { ...m, running: true, pid: ev.pid }, actions: [{ type: "kill", reason: "shutdown" }] };
  return keep(m);
}

function probe(m0: Machine, o: ProbeOutcome, p: Policy, now: number): Step {
  const m = { ...m0, boot: false };
  if (o.outcome === "ok") {
    // Healthy resets the failure count and the backoff: a later crash starts again at 1 s.
    const next = o.degraded ? to(m, "degraded", o.degraded, now) : to(m, "up", null, now);
    return keep({ ...next, failures: 0, backoffMs: p.backoffBaseMs });
  }
  const failures = m.failures + 1;
  const f = { ...m, failures };

  if (p.owned && !m.running) {
    // Our process is not running. Only a free port may be filled: never start a duplicate.
    if (m.state === "backoff" || m.state === "failed") return keep({ ...f, reason: m.reason });
    if (o.outcome === "unreachable") {
      return { machine: to(f, "starting", m0.boot ? "starting" : `port free again (${o.reason}); starting`, now), actions: [{ type: "spawn" }] };
    }
    if (o.outcome === "foreign") return keep(to(f, "conflict", o.reason, now));
    return keep(to(f, "down", `port held by a process atrad did not start, which is unhealthy: ${o.reason}`, now));
  }

  if (o.outcome === "foreign" && !p.owned) return keep(to(f, "conflict", o.reason, now));

  // A (re)started (or adopted) service gets startTimeoutMs to come up before failures count.
  if (m.state === "starting" && (m.running || (p.restartCommand && !m0.boot))) {
    if (now - m.since < p.startTimeoutMs) return keep({ ...f, reason: `not healthy yet: ${o.reason}` });
    const why = `not healthy ${Math.round(p.startTimeoutMs / 1000)}s after start: ${o.reason}`;
    return m.running ? kill(to(f, "down", why, now), why) : recover(f, p, now, why);
  }
  if (m.state === "backoff" || m.state === "failed") return keep({ ...f, reason: m.reason });

  const wasHealthy = m.state === "up" || m.state === "degraded";
  if (wasHealthy && failures < p.failThreshold) return keep(to(f, "degraded", `${failures} failed probe(s): ${o.reason}`, now));
  if (m.running && failures >= p.failThreshold) {
    const why = `${failures} failed probes: ${o.reason}`;
    return kill(to(f, "down", why, now), why);
  }
  if (p.restartCommand && failures >= p.failThreshold) return recover(f, p, now, `${failures} failed probes: ${o.reason}`);
  return keep(to(f, "down", o.reason, now));
}

/** Stop our process for `why`, remembering the cause for when its exit arrives. */
function kill(m: Machine, why: string): Step {
  return { machine: { ...m, killReason: why }, actions: [{ type: "kill", reason: why }] };
}

/** The service needs a restart: back off, or give up when the budget is spent. */
function recover(m: Machine, p: Policy, now: number, why: string): Step {
  if (!p.owned && !p.restartCommand) return keep(to(m, "down", why, now));
  const attempts = m.attempts.filter((t) => now - t < p.windowMs);
  if (attempts.length >= p.budget) {
    const window = p.windowMs >= 60_000 ? `${Math.round(p.windowMs / 60_000)} min` : `${p.windowMs} ms`;
    return keep({ ...to(m, "failed", `${why}; gave up after ${attempts.length} restarts in ${window}`, now), attempts });
  }
  const delay = m.backoffMs;
  return {
    machine: { ...to(m, "backoff", `${why}; restarting in ${fmtMs(delay)}`, now), attempts, backoffMs: Math.min(delay * 2, p.backoffMaxMs) },
    actions: [{ type: "schedule", ms: delay }],
  };
}

function fmtMs(ms: number) {
  return ms >= 1000 ? `${+(ms / 1000).toFixed(1)}s` : `${ms}ms`;
}

/** States in which the router should not even try the provider this service backs. */
export function isDown(state: ServiceState): boolean {
  return state === "down" || state === "failed" || state === "conflict" || state === "backoff" || state === "stopped";
}
