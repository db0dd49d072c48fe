/**
 * The running daemon: config + router + gateway (+ supervisor), and its lifecycle.
 * `atrad serve` calls startDaemon; tests call it too, on port 0.
 */
import { join } from "node:path";
import type { Config } from "../config/load.ts";
import { startGateway, type RunningGateway } from "../gateway/server.ts";
import type { Observer } from "../gateway/record.ts";
import { createLogger, type Logger } from "../log.ts";
import { createMetrics, type Metrics } from "../observe/metrics.ts";
import { RequestLog } from "../observe/request-log.ts";
import { RecentRequests } from "../observe/stats.ts";
import { Router } from "../router/router.ts";
import { VERSION } from "../version.ts";
import { buildStatus } from "./status.ts";

export interface Daemon {
  config: Config;
  router: Router;
  gateway: RunningGateway;
  url: string;
  metrics: Metrics;
  recent: RecentRequests;
  requestLog: RequestLog;
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
  const recent = new RecentRequests();
  const requestLog = new RequestLog(join(config.home, "logs", "requests.jsonl"));
  const metrics = createMetrics({
    providers: () => config.providers.map((p) => ({ name: p.name, inFlight: router.limiter(p.name)?.inFlight ?? 0, queued: router.limiter(p.name)?.queued ?? 0 })),
    services: () => [],
  });
  const gateway = startGateway(
    {
      config: () => config,
      router,
      version: VERSION,
      startedAt,
      observe: (r) => {
        logger.info("request", { id: r.request_id, model: r.model, target: r.target, status: r.status, ttft_ms: r.ttft_ms, total_ms: r.total_ms });
        recent.add(r);
        metrics.observe(r);
        requestLog.write(r);
        opts.observe?.(r);
      },
      metrics: () => metrics.render(),
      recent: () => recent.recent(),
      series: (provider) => recent.series(provider),
      status: () => buildStatus({ config, router, startedAt, url: daemon.url, recent }),
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
    metrics,
    recent,
    requestLog,
    async stop() {
      await gateway.stop(true);
      await requestLog.flush();
    },
  });
  logger.info(`atrad ${VERSION} listening on ${gateway.url}`, { config: config.fileExists ? config.file : "(defaults)" });
  return daemon;
}
