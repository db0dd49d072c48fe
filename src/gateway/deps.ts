/** What the gateway's route groups need from the daemon; tests build one directly. */
import type { AnyElysia } from "elysia";
import type { Config } from "../config/load.ts";
import type { Router } from "../router/router.ts";
import type { Observer, RequestRecord } from "./record.ts";

export interface GatewayDeps {
  /** The current config (a function: hot reload swaps it without rebuilding the app). */
  config(): Config;
  router: Router;
  version: string;
  startedAt: number;
  observe?: Observer;
  /** Lift the socket idle timeout for a request whose body is in (long generations). */
  relaxTimeout?: (request: Request) => void;
  /** Fires when the daemon stops: streams still open end with an `error` event. */
  shutdown?: AbortSignal;
  /** Put the idle timeout back once that request is answered (the connection may stay open). */
  restoreTimeout?: (request: Request) => void;
  /** The `GET /atrad/status` document (what `atrad status --json` prints); the daemon supplies it. */
  status?: () => Promise<unknown>;
  /** The last requests, newest first (status page). */
  recent?: () => RequestRecord[];
  /** The last request of one Claude Code session, and its provider's health. */
  session?: (id: string) => { last: RequestRecord; provider_state: string } | undefined;
  /** Re-read the config (`POST /atrad/reload`). */
  reload?: () => Promise<{ ok: boolean; error?: string; changed?: boolean }>;
  /** Latency (ms) of a provider's last requests, oldest first (status page sparklines). */
  series?: (provider: string) => number[];
  /** More routes mounted beside the gateway's own: the daemon passes the status page's. */
  routes?: AnyElysia;
  /** Prometheus text for `GET /metrics`. */
  metrics?: () => Promise<{ body: string; contentType: string }>;
}
