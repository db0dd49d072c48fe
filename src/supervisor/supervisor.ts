/**
 * The supervisor loop: one Runner per service turns probes, exits and timers into events for
 * the pure state machine (machine.ts) and carries out the actions it returns. Its downReason()
 * fits the router's HealthView (the daemon hands it over; the supervisor imports nothing of the
 * router): a provider whose backing service is down is skipped without a connect.
 */
import type { Provider, Service } from "../config/load.ts";
import type { ServiceEntry } from "../observe/status-document.ts";
import type { RequestAction } from "./machine.ts";
import { adoptedChild, killTreeNow, pidfilePath, readPidfile, recognise, stopTree, writePidfile, type PidEntry } from "./process.ts";
import { LOOPBACK, Runner, type RunnerHost, type SupervisorOptions } from "./runner.ts";

export type { SupervisorOptions, SupervisorTiming } from "./runner.ts";

/** One entry of the status document's `services`: its schema (observe/status-document.ts) is the type. */
export type ServiceStatus = ServiceEntry;

/** What `atrad start|stop|restart NAME` got back. */
export type RequestResult = { ok: true; service: ServiceStatus } | { ok: false; status: 404 | 409; error: string };

const DEFAULT_GRACE_MS = 8_000;

export class Supervisor implements RunnerHost {
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

  /** What the services backing a provider show of it, or undefined when none watches it. */
  providerState(provider: string): { state: "up" | "degraded" | "starting" | "down"; reason: string | null } | undefined {
    const rs = this.links.get(provider);
    if (!rs?.length) return undefined;
    const healthy = rs.find((r) => r.m.state === "up" || r.m.state === "degraded");
    if (healthy) return { state: healthy.m.state === "up" ? "up" : "degraded", reason: healthy.m.reason };
    const down = this.downReason(provider);
    if (down) return { state: "down", reason: down };
    return { state: "starting", reason: rs.map((r) => `service ${r.svc.name} is ${r.m.state}${r.m.reason ? ` (${r.m.reason})` : ""}`).join("; ") };
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
