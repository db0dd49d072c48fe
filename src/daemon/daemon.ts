/**
 * The running daemon: config + router + gateway (+ supervisor), and its lifecycle.
 * `atrad serve` calls startDaemon; tests call it too, on port 0.
 */
import type { Config } from "../config/load.ts";
import { startGateway, type RunningGateway } from "../gateway/server.ts";
import type { Observer } from "../gateway/record.ts";
import { createLogger, type Logger } from "../log.ts";
import { Router } from "../router/router.ts";
import { VERSION } from "../version.ts";
import { buildStatus } from "./status.ts";
import { Supervisor, type SupervisorTiming } from "../supervisor/supervisor.ts";
import { removeDaemonState, writeDaemonState } from "./state.ts";

export interface Daemon {
  config: Config;
  router: Router;
  gateway: RunningGateway;
  /** Absent when started with `supervisor: false`. */
  supervisor?: Supervisor;
  url: string;
  logger: Logger;
  stop(): Promise<void>;
}

export interface DaemonOptions {
  config: Config;
  host?: string;
  port?: number;
  logger?: Logger;
  observe?: Observer;
  /** Supervisor knobs (tests shrink the timings), or false for a gateway without one. */
  supervisor?: SupervisorTiming | false;
}

export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const logger = opts.logger ?? createLogger(opts.config.logLevel);
  let config = opts.config;
  const supervisor =
    opts.supervisor === false ? undefined : new Supervisor(config.services, config.providers, { home: config.home, logger, timing: opts.supervisor });
  const router = new Router(config, supervisor);
  const startedAt = Date.now();
  const host = opts.host ?? config.server.host;
  const port = opts.port ?? config.server.port;

  const daemon = {} as Daemon;
  const gateway = startGateway(
    {
      config: () => config,
      router,
      version: VERSION,
      startedAt,
      observe: (r) => {
        logger.info("request", { id: r.request_id, model: r.model, target: r.target, status: r.status, ttft_ms: r.ttft_ms, total_ms: r.total_ms });
        opts.observe?.(r);
      },
      status: () => buildStatus({ config, router, startedAt, url: daemon.url, services: supervisor?.status(), health: supervisor }),
    },
    host,
    port,
  );
  Object.assign(daemon, {
    get config() {
      return config;
    },
    router,
    gateway,
    supervisor,
    url: gateway.url,
    logger,
    async stop() {
      // Children and sockets go down together; the children's grace bounds the whole stop.
      await Promise.all([gateway.stop(true), supervisor?.stop()]);
      removeDaemonState(config.home, process.pid);
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
