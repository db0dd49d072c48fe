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
 *
 * No state is a dead end: `failed` is probed on, and after a cool-off a free port (owned) or a
 * fresh restart-command round (external) tries again; `atrad start|stop|restart NAME` arrive
 * here as `request` events.
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
  /** The port was checked before a spawn and someone already listens there. */
  | { type: "blocked"; reason: string; now: number }
  /** The external restart command finished: exit code (null: killed, e.g. for hanging), output tail. */
  | { type: "command_exited"; code: number | null; why: string; now: number }
  /** `atrad start|stop|restart NAME`. */
  | { type: "request"; action: RequestAction; now: number }
  | { type: "stop"; now: number };

export type RequestAction = "start" | "stop" | "restart";

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
  /** How long `failed` waits before it tries again (a free port, or one more restart round). */
  cooloffMs: number;
  /** Healthy this long in a row before the backoff starts again at the base delay. */
  stableMs: number;
}

export const DEFAULT_POLICY: Omit<Policy, "owned" | "restartCommand"> = {
  failThreshold: 3,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  budget: 5,
  windowMs: 10 * 60_000,
  startTimeoutMs: 60_000,
  cooloffMs: 60_000,
  stableMs: 30_000,
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
  /** Since when it has been healthy without a break (null: not healthy now). */
  healthySince: number | null;
  /** Stopped by request: nothing restarts it until a start/restart request. */
  held: boolean;
  /** A restart request: once the old process is gone, spawn at once (no backoff). */
  restartNow: boolean;
  /** The external restart command is running (attempts never overlap). */
  commandRunning: boolean;
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
    healthySince: null,
    held: false,
    restartNow: false,
    commandRunning: false,
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
  if (m.held && (ev.type === "probe" || ev.type === "timer")) return keep(m);
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
      const gone = { ...m, running: false, pid: null, killReason: null, healthySince: null };
      if (m.held) return keep(gone);
      if (m.restartNow) return { machine: { ...to(gone, "starting", "restarting on request", ev.now), restartNow: false, restarts: m.restarts + 1 }, actions: [{ type: "spawn" }] };
      return recover(gone, p, ev.now, why);
    }
    case "blocked":
      return keep({ ...to(m, "conflict", ev.reason, ev.now), running: false, pid: null, healthySince: null });
    case "command_exited": {
      const done = { ...m, commandRunning: false };
      if (ev.code === 0) return keep(done); // now the probes decide, within startTimeoutMs
      if (m.state === "up" || m.state === "degraded") return keep({ ...done, reason: `the restart command failed (${ev.why}), but the service answers` });
      return recover(done, p, ev.now, `restart command ${ev.why}`);
    }
    case "request":
      return request(m, ev.action, p, ev.now);
    case "timer":
      if (m.state !== "backoff") return keep(m); // a stale timer: the service recovered meanwhile
      return restart(m, p, ev.now, m.attempts);
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

/** Start (owned) or run the restart command (external) now, counting one restart. */
function restart(m: Machine, p: Policy, now: number, attempts: number[]): Step {
  return {
    machine: {
      ...to(m, "starting", p.owned ? "restarting" : "running the restart command", now),
      restarts: m.restarts + 1,
      attempts: [...attempts, now],
      failures: 0,
      commandRunning: !p.owned,
    },
    actions: [p.owned ? { type: "spawn" } : { type: "restart_command" }],
  };
}

function request(m0: Machine, action: RequestAction, p: Policy, now: number): Step {
  // A request starts from a clean slate: the budget and the backoff are the user's to reset.
  const m = { ...m0, held: false, attempts: [], backoffMs: p.backoffBaseMs, failures: 0 };
  if (action === "stop") {
    const held = { ...to(m, "stopped", "stopped on request (atrad start NAME resumes it)", now), held: true, restartNow: false };
    return m.running ? kill(held, "stopped on request") : keep(held);
  }
  if (m.running) {
    if (action === "start") return keep(m0.held ? to(m, "starting", "resumed on request", now) : m);
    return kill({ ...to(m, "starting", "restarting on request", now), restartNow: true }, "restart requested");
  }
  if (p.owned || (p.restartCommand && !m.commandRunning)) return restart(to(m, "starting", null, now), p, now, []);
  return keep(to(m, "starting", `${action} requested: waiting for the next probe`, now));
}

function probe(m0: Machine, o: ProbeOutcome, p: Policy, now: number): Step {
  const m = { ...m0, boot: false };
  if (o.outcome === "ok") {
    // The backoff starts again at the base only after a while healthy: a service that dies
    // two seconds after each start must not be restarted every second forever.
    const healthySince = m.healthySince ?? now;
    const stable = now - healthySince >= p.stableMs;
    const next = o.degraded ? to(m, "degraded", o.degraded, now) : to(m, "up", null, now);
    return keep({ ...next, failures: 0, healthySince, backoffMs: stable ? p.backoffBaseMs : m.backoffMs, ...(stable ? { attempts: [] } : {}) });
  }
  const failures = m.failures + 1;
  const f = { ...m, failures, healthySince: null };

  if (m.state === "failed" && now - m.since >= p.cooloffMs) {
    // The cool-off is over: a free port is filled again, an external service gets a new round.
    if (p.owned && !m.running && o.outcome === "unreachable")
      return restart(to(f, "starting", null, now), p, now, []);
    if (p.restartCommand && !m.commandRunning && o.outcome !== "foreign") return restart(to(f, "starting", null, now), p, now, []);
  }

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

  // A (re)started (or adopted) service gets startTimeoutMs to come up before failures count;
  // a restart command still running is waited for (it ends, or is killed for hanging).
  if (m.state === "starting" && m.commandRunning) return keep({ ...f, reason: `restart command still running; not healthy yet: ${o.reason}` });
  if (m.state === "starting" && (m.running || (p.restartCommand && !m0.boot))) {
    if (now - m.since < p.startTimeoutMs) return keep({ ...f, reason: `not healthy yet: ${o.reason}` });
    const why = `not healthy ${fmtMs(p.startTimeoutMs)} after start: ${o.reason}`;
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
    const again = p.owned ? "starts again once its port is free" : "tries again";
    return keep({ ...to(m, "failed", `${why}; gave up after ${attempts.length} restarts in ${window}; ${again} after a ${fmtMs(p.cooloffMs)} cool-off (or: atrad restart NAME)`, now), attempts });
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
