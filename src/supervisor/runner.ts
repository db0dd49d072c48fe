/**
 * One supervised service: turns its probes, exits, timers and requests into events for the pure
 * state machine (machine.ts) and carries out the actions it returns — spawn (after checking
 * the port), stop the process tree, run the restart command, schedule the next try.
 */
import type { Service } from "../config/load.ts";
import type { Logger } from "../log.ts";
import type { ServiceEntry } from "../observe/status-document.ts";
import { DEFAULT_MAX_BYTES, rotateIfLarge, serviceLogPath, tailLines } from "./logfile.ts";
import { DEFAULT_POLICY, initial, isDown, step, type Event, type Machine, type Policy, type ProbeOutcome, type RequestAction } from "./machine.ts";
import { portHolder, type PortHolder } from "./ports.ts";
import { probeService, type ProbeResult } from "./probe.ts";
import { noteDescendants, spawnChild, stopTree, type Child } from "./process.ts";
import { hasEnvMarker, procOf } from "./proctable.ts";
import { runCommandOnce, type CommandRun, type RunningCommand } from "./restart-command.ts";

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
  /** Called when a service starts answering healthy (the daemon refreshes its provider's model list). */
  onUp?: (service: Service) => void;
}

/** What a runner needs from the supervisor that owns it. */
export interface RunnerHost {
  readonly opts: SupervisorOptions;
  now(): number;
  savePidfile(): void;
  readonly graceMs: number;
}

export const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0"]);

export class Runner {
  m: Machine;
  child: Child | undefined;
  childSince = "";
  private readonly policy: Policy;
  private killing: Promise<void> | undefined;
  /** The tree of a leader that exited is being stopped; no new spawn until it is gone. */
  private reaping: Promise<void> = Promise.resolve();
  /** Whether `reaping` is still under way: what answers on the port meanwhile may be that tree. */
  private oldTree = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private probeTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private holder: PortHolder | undefined;
  private readonly logPath: string;
  private command: RunningCommand | undefined;
  private lastCommand: CommandRun | undefined;

  constructor(
    readonly svc: Service,
    private readonly sup: RunnerHost,
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

  /** Something worth knowing that no state says (a child of a previous atrad not adopted). */
  private noteText: string | undefined;
  note(text: string) {
    this.noteText = text;
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
      const serving = (s: string) => s === "up" || s === "degraded";
      if (serving(machine.state) && !serving(prev.state)) this.sup.opts.onUp?.(this.svc);
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
      const result = await probeService(this.svc, this.sup.opts.fetch);
      // A healthy answer while the tree of a leader that exited is still being stopped is that
      // tree's (a forking server's child outlives its leader by up to the TERM→KILL grace), not
      // the service's: it must not make the service up with no process of ours, nor cancel the
      // backoff's restart.
      if (result.outcome !== "ok" || this.child || !this.oldTree) {
        const outcome = await this.classify(result);
        if (this.stopped) return;
        this.dispatch({ type: "probe", outcome, now: this.sup.now() });
      }
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
    const r = await probeService({ port, timeout_s: 0.5 });
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
      const reaping: Promise<void> = Promise.all([killing, stopTree(child, this.graceMs)]).then(() => {
        if (this.reaping === reaping) this.oldTree = false;
      });
      this.reaping = reaping;
      this.oldTree = true;
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

  /** The external service's `restart` command: one at a time; how it ended shows in status. */
  private runRestartCommand() {
    if (this.command) return;
    this.log.warn(`service ${this.svc.name}: running its restart command`, { command: this.svc.restart!.join(" ") });
    const spec = { command: this.svc.restart!, cwd: this.svc.cwd, env: this.svc.env, logPath: this.logPath, limitMs: this.policy.startTimeoutMs };
    this.command = runCommandOnce(spec, ({ code, why, run }) => {
      this.command = undefined;
      this.lastCommand = run;
      if (code !== 0) this.log.warn(`service ${this.svc.name}: restart command ${why}`, { log: this.logPath });
      this.dispatch({ type: "command_exited", code, why, now: this.sup.now() });
    });
    this.lastCommand = this.command.run;
  }

  async shutdown() {
    this.stopped = true;
    this.command?.kill();
    clearTimeout(this.timer);
    clearTimeout(this.probeTimer);
    this.dispatch({ type: "stop", now: this.sup.now() });
    if (this.killing) await this.killing;
    if (this.child) await Promise.race([this.child.exited, Bun.sleep(1000)]);
    await this.reaping;
  }

  status(): ServiceEntry {
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
      ...(this.lastCommand ? { restart_command: { ...this.lastCommand } } : {}),
      ...(this.noteText ? { note: this.noteText } : {}),
    };
  }
}

