/**
 * The supervisor loop: one Runner per service turns probes, exits and timers into events for
 * the pure state machine (machine.ts) and carries out the actions it returns. Its downReason()
 * fits the router's HealthView (the daemon hands it over; the supervisor imports nothing of the
 * router): a provider whose backing service is down is skipped without a connect.
 */
import { spawn as spawnProcess, type ChildProcess } from "node:child_process";
import { appendFileSync } from "node:fs";
import type { Provider, Service } from "../config/load.ts";
import type { Logger } from "../log.ts";
import type { ServiceEntry } from "../observe/status-document.ts";
import { DEFAULT_POLICY, initial, isDown, step, type Event, type Machine, type Policy, type ProbeOutcome, type RequestAction } from "./machine.ts";
import { probeService, type ProbeResult } from "./probe.ts";
import { portHolder, type PortHolder } from "./ports.ts";
import { adoptedChild, killTreeNow, noteDescendants, pidfilePath, readPidfile, recognise, spawnChild, stopTree, writePidfile, type Child, type PidEntry } from "./process.ts";
import { hasEnvMarker, procOf } from "./proctable.ts";
import { DEFAULT_MAX_BYTES, rotateIfLarge, serviceLogPath, tailLines } from "./logfile.ts";

/** Timing and policy knobs. Production uses the defaults; tests shrink them. */
export interface SupervisorTiming extends Partial<Omit<Policy, "owned" | "restartCommand">> {
  /** Overrides every service's probe interval. */
  intervalMs?: number;
  /** TERM → KILL grace at shutdown; well inside launchd's 20 s ExitTimeOut. */
  graceMs?: number;
  logMaxBytes?: number;
}

export interface SupervisorOptions {
  home: string;
  logger: Logger;
  timing?: SupervisorTiming;
  fetch?: typeof fetch;
  now?: () => number;
}

/** One entry of the status document's `services`: its schema (observe/status-document.ts) is the type. */
export type ServiceStatus = ServiceEntry;

/** What `atrad start|stop|restart NAME` got back. */
export type RequestResult = { ok: true; service: ServiceStatus } | { ok: false; status: 404 | 409; error: string };

const DEFAULT_GRACE_MS = 8_000;

export class Supervisor {
  private runners: Runner[];
  /** provider name → runners of the services whose port it actually talks to. */
  private links = new Map<string, Runner[]>();
  private readonly pidfile: string;
  private started = false;

  constructor(
    services: Service[],
    providers: Provider[],
    readonly opts: SupervisorOptions,
  ) {
    this.pidfile = pidfilePath(opts.home);
    this.runners = services.map((s) => new Runner(s, this));
    this.link(providers);
  }

  private link(providers: Provider[]) {
    this.links = new Map();
    for (const r of this.runners) {
      const p = r.svc.provider ? providers.find((x) => x.name === r.svc.provider) : undefined;
      if (!p) continue;
      // A service gates its provider only when the provider talks to that service's port. A user
      // who points [providers.ollama] elsewhere must not lose it because local :11434 is down.
      if (p.urls.some((u) => sameEndpoint(u, r.svc))) this.links.set(p.name, [...(this.links.get(p.name) ?? []), r]);
      else this.opts.logger.debug(`service ${r.svc.name} does not gate provider ${p.name}: different host/port`);
    }
  }

  /**
   * Hot reload: services whose definition is unchanged keep their runner (and child, and pid);
   * changed ones are stopped and started afresh; removed ones are stopped.
   */
  async reconcile(services: Service[], providers: Provider[]): Promise<void> {
    const old = new Map(this.runners.map((r) => [r.svc.name, r]));
    const next: Runner[] = [];
    const retired: Runner[] = [];
    for (const svc of services) {
      const r = old.get(svc.name);
      if (r && JSON.stringify(r.svc) === JSON.stringify(svc)) {
        next.push(r);
        old.delete(svc.name);
      } else {
        if (r) {
          retired.push(r);
          old.delete(svc.name);
        }
        next.push(new Runner(svc, this));
      }
    }
    retired.push(...old.values());
    await Promise.all(retired.map((r) => r.shutdown()));
    const fresh = next.filter((r) => !this.runners.includes(r));
    this.runners = next;
    this.link(providers);
    this.savePidfile();
    if (this.started) for (const r of fresh) r.begin();
  }

  now() {
    return this.opts.now?.() ?? Date.now();
  }

  /**
   * Adopt (or stop) children a previous atrad left behind, then begin probing. A child is
   * recognised by pid + start time, so a wrapper that `exec`ed into its server is still ours;
   * an entry that cannot be confirmed is logged, never silently dropped.
   */
  async start(): Promise<void> {
    const previous = readPidfile(this.pidfile);
    for (const [name, entry] of Object.entries(previous)) {
      const r = this.runners.find((x) => x.svc.name === name);
      const seen = recognise(entry);
      if (seen.verdict === "unconfirmed") {
        this.opts.logger.warn(`service ${name}: not adopting pid ${entry.pid ?? "?"} left by a previous atrad: ${seen.why}`);
        r?.note(`pid ${entry.pid ?? "?"} left by a previous atrad was not adopted: ${seen.why}`);
        continue;
      }
      if (seen.verdict === "gone") {
        // The leader died while no atrad watched; what it forked may still hold the port.
        if (typeof entry.marker === "string") await stopTree({ pid: -1, pgid: -1, start: "", marker: entry.marker, known: new Map(), exited: Promise.resolve({ code: null, signal: null }) }, this.graceMs);
        continue;
      }
      const child = adoptedChild(seen.entry);
      if (r?.svc.command && r.svc.command.join("\0") === seen.entry.command.join("\0")) r.adopt(child, seen.entry.started_at);
      else {
        // Ours, but no longer configured this way: stop it rather than leave an orphan.
        this.opts.logger.warn(`stopping pid ${child.pid} (${name}) left by a previous atrad: no longer configured`);
        await stopTree(child, r?.graceMs ?? this.graceMs);
      }
    }
    this.savePidfile();
    this.started = true;
    for (const r of this.runners) r.begin();
  }

  /** Stop probing and stop every owned child (TERM → grace → KILL), in parallel. */
  async stop(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.shutdown()));
    this.savePidfile();
  }

  /** A forced exit is coming: KILL every owned tree now rather than leave it holding ports. */
  killAllNow() {
    for (const r of this.runners) if (r.child) killTreeNow(r.child);
  }

  get graceMs() {
    return this.opts.timing?.graceMs ?? DEFAULT_GRACE_MS;
  }

  /** `atrad start|stop|restart NAME`: act on one service. */
  request(name: string, action: RequestAction): RequestResult {
    const r = this.runners.find((x) => x.svc.name === name);
    if (!r) return { ok: false, status: 404, error: `no service named "${name}" (configured: ${this.runners.map((x) => x.svc.name).join(", ") || "none"})` };
    const refusal = r.request(action);
    return refusal ? { ok: false, status: 409, error: refusal } : { ok: true, service: r.status() };
  }

  downReason(provider: string): string | undefined {
    const rs = this.links.get(provider);
    if (!rs?.length || !rs.every((r) => r.unavailable())) return undefined;
    return rs.map((r) => `service ${r.svc.name} is ${r.m.state}${r.m.reason ? ` (${r.m.reason})` : ""}`).join("; ");
  }

  status(): ServiceStatus[] {
    return this.runners.map((r) => r.status());
  }

  savePidfile() {
    const entries: Record<string, PidEntry> = {};
    for (const r of this.runners) {
      const c = r.child;
      if (c && r.svc.command) entries[r.svc.name] = { pid: c.pid, pgid: c.pgid, start: c.start, marker: c.marker, command: r.svc.command, started_at: r.childSince };
    }
    try {
      writePidfile(this.pidfile, entries);
    } catch (err) {
      this.opts.logger.warn(`cannot write ${this.pidfile}: ${(err as Error).message}`);
    }
  }
}

class Runner {
  m: Machine;
  child: Child | undefined;
  childSince = "";
  private readonly policy: Policy;
  private killing: Promise<void> | undefined;
  /** The tree of a leader that exited is being stopped; no new spawn until it is gone. */
  private reaping: Promise<void> = Promise.resolve();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private probeTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private holder: PortHolder | undefined;
  private readonly logPath: string;
  private command: ChildProcess | undefined;
  private commandRun: ServiceStatus["restart_command"];

  constructor(
    readonly svc: Service,
    private readonly sup: Supervisor,
  ) {
    const t = sup.opts.timing ?? {};
    const knobs = Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined));
    const own = svc.start_timeout_s !== undefined ? { startTimeoutMs: svc.start_timeout_s * 1000 } : {};
    this.policy = { ...DEFAULT_POLICY, ...knobs, ...own, owned: !!svc.command, restartCommand: !svc.command && !!svc.restart } as Policy;
    this.m = initial(this.policy, sup.now());
    this.logPath = serviceLogPath(sup.opts.home, svc.name);
  }

  private get log() {
    return this.sup.opts.logger;
  }

  /** TERM → KILL grace for this service's tree. */
  get graceMs() {
    return this.svc.stop_timeout_s !== undefined ? this.svc.stop_timeout_s * 1000 : this.sup.graceMs;
  }

  private get intervalMs() {
    return this.sup.opts.timing?.intervalMs ?? this.svc.interval_s * 1000;
  }

  adopt(child: Child, since: string) {
    this.child = child;
    this.childSince = since;
    this.watchExit(child);
    this.dispatch({ type: "adopted", pid: child.pid, now: this.sup.now() });
  }

  /** Not worth a connect: down for good, or (re)starting and not yet healthy after a first probe. */
  unavailable(): boolean {
    return isDown(this.m.state) || (this.m.state === "starting" && !this.m.boot);
  }

  /** A start/stop/restart request; a refusal says why (nothing atrad could do). */
  request(action: RequestAction): string | undefined {
    if (this.stopped) return "atrad is shutting down";
    if (!this.svc.command && !this.svc.restart && action !== "start")
      return `service ${this.svc.name} is not started by atrad (no \`command\`) and has no \`restart\` command: atrad can only watch it`;
    this.log.info(`service ${this.svc.name}: ${action} requested`);
    this.dispatch({ type: "request", action, now: this.sup.now() });
    return undefined;
  }

  /** Something about this service worth showing although no state changed. */
  note(text: string) {
    this.m = { ...this.m, reason: text };
  }

  begin() {
    void this.tick();
  }

  dispatch(ev: Event) {
    const prev = this.m;
    const { machine, actions } = step(prev, ev, this.policy);
    this.m = machine;
    if (machine.state !== prev.state) {
      const calm = ["up", "degraded", "starting", "stopped"].includes(machine.state);
      const level = calm ? "info" : "warn";
      this.log[level](`service ${this.svc.name}: ${prev.state} → ${machine.state}`, { reason: machine.reason ?? "healthy" });
    }
    for (const a of actions) {
      if (a.type === "spawn") this.spawn();
      else if (a.type === "kill") this.kill(a.reason);
      else if (a.type === "restart_command") this.runRestartCommand();
      else if (a.type === "schedule") {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.dispatch({ type: "timer", now: this.sup.now() }), a.ms);
      }
    }
  }

  private async tick() {
    if (this.stopped) return;
    try {
      rotateIfLarge(this.logPath, this.sup.opts.timing?.logMaxBytes ?? DEFAULT_MAX_BYTES);
      // Without /proc environments, escapees are known only from having been seen earlier.
      if (this.child && process.platform !== "linux") noteDescendants(this.child);
      const outcome = await this.classify(await probeService(this.svc, this.sup.opts.fetch));
      if (this.stopped) return;
      this.dispatch({ type: "probe", outcome, now: this.sup.now() });
    } catch (err) {
      // A bug in one round must not end the watch: log it and probe again next interval.
      this.log.error(`service ${this.svc.name}: probe round failed: ${(err as Error).message}`);
    }
    if (!this.stopped) this.probeTimer = setTimeout(() => void this.tick(), this.intervalMs);
  }

  /** A mismatching answer is ours-but-sick or a stranger on the port: the port table decides. */
  private async classify(r: ProbeResult): Promise<ProbeOutcome> {
    if (r.outcome === "ok" && this.svc.command && !this.child && !this.svc.expect && this.svc.port) {
      // Any 200 is "ok" without `expect`: for a service atrad starts, a healthy answer while its
      // process is not running is someone else's unless the port table says otherwise.
      const holder = await portHolder(this.svc.port);
      if (holder) {
        this.holder = holder;
        return { outcome: "foreign", reason: `port ${this.svc.port} is held by pid ${holder.pid} (${holder.command}), which atrad did not start (give the service an \`expect\` to accept it as ${this.svc.name})` };
      }
    }
    if (r.outcome !== "mismatch") {
      if (r.outcome === "ok" || r.outcome === "unreachable") this.holder = undefined;
      return r;
    }
    const port = this.svc.port;
    const holder = port ? await portHolder(port) : undefined;
    if (this.child && holder && this.inTree(holder.pid)) {
      this.holder = undefined;
      return { outcome: "unhealthy", reason: r.reason };
    }
    this.holder = holder;
    const who = holder ? `pid ${holder.pid} (${holder.command})` : "a process atrad cannot identify";
    return { outcome: "foreign", reason: `port ${port ?? "?"} is held by ${who}, which does not answer as ${this.svc.name}: ${r.reason}` };
  }

  /** Is this pid part of our child's tree (its group, or carrying its marker)? */
  private inTree(pid: number): boolean {
    const c = this.child;
    if (!c) return false;
    return pid === c.pid || procOf(pid)?.pgid === c.pgid || hasEnvMarker(pid, c.marker) || c.known.has(pid);
  }

  private spawn() {
    void this.reaping.then(() => this.spawnNow());
  }

  /** Is anyone listening on the service's (local) port right now? */
  private async portTaken(): Promise<PortHolder | "unknown" | undefined> {
    const port = this.svc.port;
    if (!port || (this.svc.health && !LOOPBACK.has(new URL(this.svc.health).hostname))) return undefined;
    const r = await probeService({ port, timeoutMs: 500 });
    if (r.outcome !== "ok") return undefined;
    return (await portHolder(port)) ?? "unknown";
  }

  private async spawnNow() {
    if (this.stopped || this.child) return;
    // Checked before every spawn: a stranger that took the port during a backoff is a
    // conflict to show, not a reason for five blind EADDRINUSE respawns.
    const taken = await this.portTaken();
    if (this.stopped || this.child) return;
    if (taken) {
      this.holder = taken === "unknown" ? undefined : taken;
      const who = taken === "unknown" ? "a process atrad cannot identify" : `pid ${taken.pid} (${taken.command})`;
      this.dispatch({ type: "blocked", reason: `port ${this.svc.port} is already held by ${who}; not starting a second listener`, now: this.sup.now() });
      return;
    }
    const cmd = this.svc.command!;
    try {
      const child = spawnChild({ name: this.svc.name, command: cmd, cwd: this.svc.cwd, env: this.svc.env, logPath: this.logPath });
      this.child = child;
      this.childSince = new Date().toISOString();
      this.sup.savePidfile();
      this.watchExit(child);
      this.dispatch({ type: "spawned", pid: child.pid, now: this.sup.now() });
    } catch (err) {
      this.dispatch({ type: "spawn_failed", error: (err as Error).message, now: this.sup.now() });
    }
  }

  private watchExit(child: Child) {
    void child.exited.then(({ code, signal }) => {
      if (this.child !== child) return;
      this.child = undefined;
      // The leader is gone; its group and escaped descendants go with it.
      const killing = this.killing;
      this.reaping = Promise.all([killing, stopTree(child, this.graceMs)]).then(() => {});
      this.killing = undefined;
      this.sup.savePidfile();
      this.dispatch({ type: "exited", code, signal, now: this.sup.now() });
    });
  }

  private kill(reason: string) {
    const child = this.child;
    if (!child || this.killing) return;
    this.log.info(`service ${this.svc.name}: stopping pid ${child.pid}`, { reason });
    this.killing = stopTree(child, this.graceMs);
  }

  /**
   * The external service's `restart` command: one at a time, killed (with its group) when it
   * hangs past the start timeout, its exit status and output tail kept for status.
   */
  private runRestartCommand() {
    if (this.command) return;
    const cmd = this.svc.restart!;
    this.log.warn(`service ${this.svc.name}: running its restart command`, { command: cmd.join(" ") });
    const at = new Date().toISOString();
    let out = "";
    const finish = (code: number | null, why: string) => {
      clearTimeout(timer);
      this.command = undefined;
      const tail = out.split("\n").map((l) => l.trim()).filter(Boolean).slice(-5);
      this.commandRun = { state: code === 0 ? "succeeded" : "failed", at, exit_code: code, output_tail: tail };
      try {
        appendFileSync(this.logPath, `--- ${at} restart command: ${cmd.join(" ")}\n${out}${out.endsWith("\n") || !out ? "" : "\n"}--- ${why}\n`);
      } catch {}
      if (code !== 0) this.log.warn(`service ${this.svc.name}: restart command ${why}`, { log: this.logPath });
      this.dispatch({ type: "command_exited", code, why: tail.length && code !== 0 ? `${why}: ${tail.slice(-2).join(" / ")}` : why, now: this.sup.now() });
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    let child: ChildProcess;
    try {
      child = spawnProcess(cmd[0]!, cmd.slice(1), { cwd: this.svc.cwd, env: { ...process.env, ...this.svc.env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    } catch (err) {
      return finish(null, `could not run: ${(err as Error).message}`);
    }
    this.command = child;
    this.commandRun = { state: "running", at, exit_code: null, output_tail: [] };
    const take = (b: Buffer) => (out = (out + b.toString("utf8")).slice(-16_384));
    child.stdout?.on("data", take);
    child.stderr?.on("data", take);
    let hung = false;
    let spawnError: string | undefined;
    child.once("error", (err) => (spawnError = err.message));
    const limit = this.policy.startTimeoutMs;
    timer = setTimeout(() => {
      hung = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, limit);
    child.once("close", (code, signal) => {
      if (hung) finish(null, `hung for ${fmtS(limit)} and was killed`);
      else if (spawnError) finish(null, `could not run: ${spawnError}`);
      else finish(code, signal ? `was killed by ${signal}` : `exited ${code}`);
    });
  }

  async shutdown() {
    this.stopped = true;
    if (this.command?.pid) {
      try {
        process.kill(-this.command.pid, "SIGKILL");
      } catch {}
    }
    clearTimeout(this.timer);
    clearTimeout(this.probeTimer);
    this.dispatch({ type: "stop", now: this.sup.now() });
    if (this.killing) await this.killing;
    if (this.child) await Promise.race([this.child.exited, Bun.sleep(1000)]);
    await this.reaping;
  }

  status(): ServiceStatus {
    const m = this.m;
    return {
      name: this.svc.name,
      port: this.svc.port ?? null,
      state: m.state,
      owned: !!this.svc.command,
      pid: this.child?.pid ?? null,
      restarts: m.restarts,
      since: new Date(m.since).toISOString(),
      last_error: m.state === "up" ? null : m.reason,
      ...(this.svc.provider ? { provider: this.svc.provider } : {}),
      ...(this.svc.health ? { health: this.svc.health } : {}),
      ...(m.state === "conflict" && this.holder ? { holder: this.holder } : {}),
      ...(m.state === "failed" ? { log_tail: tailLines(this.logPath, 20) } : {}),
      ...(this.commandRun ? { restart_command: this.commandRun } : {}),
    };
  }
}

const fmtS = (ms: number) => `${+(ms / 1000).toFixed(1)} s`;

const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0"]);

/** Does this provider URL reach the service's host:port? */
function sameEndpoint(providerUrl: string, svc: Service): boolean {
  try {
    const u = new URL(providerUrl);
    const port = Number(u.port || (u.protocol === "https:" ? 443 : 80));
    if (port !== svc.port) return false;
    if (!svc.health) return LOOPBACK.has(u.hostname);
    const h = new URL(svc.health).hostname;
    return h === u.hostname || (LOOPBACK.has(h) && LOOPBACK.has(u.hostname));
  } catch {
    return false;
  }
}
