/**
 * The running daemon: config + router + gateway (+ supervisor), and its lifecycle.
 * `atrad serve` calls startDaemon; tests call it too, on port 0.
 */
import { loadConfig, type Config } from "../config/load.ts";
import { startGateway, type RunningGateway } from "../gateway/server.ts";
import type { Observer } from "../gateway/record.ts";
import { createLogger, type Logger } from "../log.ts";
import { createMetrics, type Metrics } from "../observe/metrics.ts";
import { RequestLog } from "../observe/request-log.ts";
import { RecentRequests } from "../observe/stats.ts";
import { Router } from "../router/router.ts";
import { VERSION } from "../version.ts";
import { boundTo, tryReload, watchConfig, type ConfigState, type ReloadResult } from "./reload.ts";
import { buildStatus } from "./status.ts";
import { requestLogPath } from "../supervisor/logfile.ts";
import { Supervisor, type SupervisorTiming } from "../supervisor/supervisor.ts";
import { uiRoutes } from "../ui/routes.ts";
import { homeProblem, removeDaemonState, writeDaemonState } from "./state.ts";
import { lockHome, type HomeLock } from "./lock.ts";
import { withServiceRoutes } from "./service-routes.ts";
import { releaseWhenIdle, type IdleRelease } from "./idle-release.ts";
import { releaseTokenizer } from "../tokens/count.ts";

export interface Daemon {
  config: Config;
  router: Router;
  gateway: RunningGateway;
  /** Absent when started with `supervisor: false`. */
  supervisor?: Supervisor;
  url: string;
  metrics: Metrics;
  recent: RecentRequests;
  requestLog: RequestLog;
  logger: Logger;
  configState: ConfigState;
  /** Re-read the config file; keeps the old config when the new one is invalid. */
  reload(): ReloadResult;
  stop(): Promise<void>;
}

export interface DaemonOptions {
  config: Config;
  host?: string;
  port?: number;
  logger?: Logger;
  observe?: Observer;
  /** Reload when the config file changes (on for `atrad serve`). */
  watch?: boolean;
  /** How to read the config again (default: the same file and environment). */
  load?: () => Config;
  /** Supervisor knobs (tests shrink the timings), or false for a gateway without one. */
  supervisor?: SupervisorTiming | false;
  /** How long requests.jsonl waits between tries while its disk fails (default 5 s; tests shrink it). */
  requestLogRetryMs?: number;
  /**
   * Give memory back once quiet (idle-release.ts; on for `atrad serve`). Off by default: the
   * release is process-wide, and a test process holds other daemons and timed tests.
   */
  releaseWhenIdle?: boolean;
}

export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const logger = opts.logger ?? createLogger(opts.config.log.level);
  const host = opts.host ?? opts.config.server.host;
  // The guard (Host/Origin, tokens) and every reload judge by the address actually bound.
  let config = boundTo(opts.config, host);
  // An unwritable home is a warning, not a refusal: serve, with the log on stderr only.
  const homeError = homeProblem(config.home);
  if (homeError)
    logger.warn(`ATRAD_HOME ${config.home} is not writable (${homeError}); serving anyway: the log goes to stderr only, requests.jsonl is retried until it can be written, and \`atrad status\` looks for this daemon at its configured port`);
  // One daemon per home, before anything adopts children or takes the port: a second one
  // throws HomeLockedError naming the running daemon (pid, port). A home no one can write
  // has no lock to take; the port still keeps a second daemon out.
  const lock: HomeLock = homeError ? { setUrl() {}, during: (fn) => fn(), release() {} } : lockHome(config.home);
  const supervisor =
    opts.supervisor === false
      ? undefined
      : new Supervisor(config.services, config.providers, {
          home: config.home,
          logger,
          timing: opts.supervisor,
          // A provider's models appear when its service does, not a cache period later.
          onUp: (svc) => void (svc.provider && router.catalog.refresh(svc.provider)),
        });
  const router = new Router(config, supervisor);
  const startedAt = Date.now();
  const port = opts.port ?? config.server.port;

  const daemon = {} as Daemon;
  const configState: ConfigState = { file: config.file, loaded_at: new Date().toISOString(), error: null };
  // The same file again; one that did not exist at start is looked for again, not required.
  const load = opts.load ?? (() => loadConfig({ file: config.fileExists ? config.file : undefined }));
  const reload = (): ReloadResult => {
    const { config: next, error } = tryReload(load, config, host);
    if (!next) {
      configState.error = error!;
      configState.rejected_at = new Date().toISOString();
      logger.error("config reload rejected; keeping the running config", { error: error! });
      return { ok: false, error };
    }
    const changed = JSON.stringify(next) !== JSON.stringify(config);
    config = next;
    router.setConfig(next);
    void supervisor?.reconcile(next.services, next.providers).catch((err) => logger.error(`supervisor reload failed: ${(err as Error).message}`));
    configState.error = null;
    configState.rejected_at = null;
    configState.loaded_at = new Date().toISOString();
    logger.info(changed ? "config reloaded" : "config reloaded (no change)", { file: next.file });
    return { ok: true, changed };
  };
  const unwatch = opts.watch ? watchConfig(config.file, () => void reload()) : () => {};
  const recent = new RecentRequests();
  const requestLog = new RequestLog(requestLogPath(config.home), {
    retryMs: opts.requestLogRetryMs,
    report: (event, message) => (event === "failing" ? logger.warn(`request log: ${message}`) : logger.info(`request log: ${message}`)),
  });
  const metrics = createMetrics({
    providers: () => config.providers.map((p) => ({ name: p.name, inFlight: router.limiter(p.name)?.inFlight ?? 0, queued: router.limiter(p.name)?.queued ?? 0 })),
    services: () => (supervisor?.status() ?? []).map((s) => ({ name: s.name, up: s.state === "up" || s.state === "degraded", restarts: s.restarts })),
  });
  const shutdown = new AbortController();
  const disk = () => ({ home: config.home, home_error: homeError ?? null, request_log: requestLog.health() });
  const status = () => buildStatus({ config, router, startedAt, url: daemon.url, recent, configState, disk: disk(), services: supervisor?.status(), health: supervisor, watch: supervisor });
  let idle: IdleRelease | undefined;
  const gateway = await startGateway(
    {
      shutdown: shutdown.signal,
      config: () => config,
      router,
      version: VERSION,
      startedAt,
      observe: (r) => {
        // requests.jsonl is the per-request record; the daemon log keeps it at debug level
        // (one formatted line per request cost ~10 % of CPU under load).
        logger.debug("request", { id: r.request_id, model: r.model, target: r.target, status: r.status, ttft_ms: r.ttft_ms, total_ms: r.total_ms });
        idle?.touch();
        recent.add(r);
        metrics.observe(r);
        requestLog.write(r);
        opts.observe?.(r);
      },
      metrics: () => metrics.render(),
      recent: () => recent.recent(),
      series: (provider) => recent.series(provider),
      session: (id) => {
        const last = recent.lastOfSession(id);
        if (!last) return undefined;
        const down = last.provider ? router.health?.downReason(last.provider) : undefined;
        return { last, provider_state: down ? "down" : last.status < 400 ? "up" : "degraded" };
      },
      status,
      reload: async () => reload(),
      routes: withServiceRoutes(uiRoutes({
        version: VERSION,
        providers: () => config.providers.map((p) => p.name),
        status,
        recent: () => recent.recent(),
        series: (provider) => recent.series(provider),
      }), supervisor),
    },
    host,
    port,
  ).catch((err) => {
    // Not bound (the port is taken): the home is free for the daemon that holds it.
    lock.release();
    throw err;
  });
  lock.setUrl(gateway.url);
  if (opts.releaseWhenIdle) idle = releaseWhenIdle({
    inFlight: () => gateway.inFlight,
    release: () => {
      releaseTokenizer();
      Bun.shrink();
      Bun.gc(true);
    },
  });
  Object.defineProperty(daemon, "config", { get: () => config, enumerable: true });
  Object.assign(daemon, {
    router,
    gateway,
    supervisor,
    url: gateway.url,
    logger,
    metrics,
    recent,
    requestLog,
    configState,
    reload,
    async stop() {
      unwatch();
      idle?.stop();
      // Children stop in parallel with the drain, not after it: their TERM→KILL grace and the
      // drain's grace then overlap, and the whole stop fits the service manager's timeout.
      const children = supervisor?.stop();
      // Drain: stop accepting at once, give in-flight requests the grace to finish, then end
      // the streams still open with an `error` event (never cut mid-frame) and close.
      const drained = gateway.stop(false).catch(() => {});
      const graceMs = config.server.shutdown_grace_s * 1000;
      const left = await Promise.race([drained.then(() => false), Bun.sleep(graceMs).then(() => true)]);
      if (left) {
        logger.warn(`requests still in flight after ${graceMs / 1000}s; ending them`);
        shutdown.abort();
        await Promise.race([drained, Bun.sleep(500)]);
      }
      await Promise.all([gateway.stop(true), children]);
      await requestLog.flush();
      removeDaemonState(config.home, process.pid);
      lock.release();
    },
  });
  // Found by `atrad status` / `atrad logs` without --url, whatever port we got.
  writeDaemonState(config.home, { pid: process.pid, url: gateway.url, version: VERSION, started_at: new Date(startedAt).toISOString() });
  try {
    await supervisor?.start();
  } catch (err) {
    logger.error(`supervisor did not start: ${(err as Error).message}`);
  }
  logger.info(`atrad ${VERSION} listening on ${gateway.url}`, { config: config.fileExists ? config.file : "(defaults)" });
  return daemon;
}
