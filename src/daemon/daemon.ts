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

export interface Daemon {
  config: Config;
  router: Router;
  gateway: RunningGateway;
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
}

export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const logger = opts.logger ?? createLogger(opts.config.logLevel);
  let config = opts.config;
  const router = new Router(config);
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
      status: () => buildStatus({ config, router, startedAt, url: daemon.url }),
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
    url: gateway.url,
    logger,
    async stop() {
      await gateway.stop(true);
    },
  });
  logger.info(`atrad ${VERSION} listening on ${gateway.url}`, { config: config.fileExists ? config.file : "(defaults)" });
  return daemon;
}
