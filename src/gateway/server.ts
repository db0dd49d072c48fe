/**
 * Binding the gateway to a socket: the only place Bun.serve is called.
 * `reusePort: false` so a second daemon fails loudly instead of sharing the port (DESIGN §5).
 */
import type { Server } from "bun";
import { createApp } from "./app.ts";
import type { GatewayDeps } from "./deps.ts";

const overloaded = () =>
  new Response(JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "atrad is at server.max_connections requests in progress; retry shortly" } }), {
    status: 529,
    headers: { "content-type": "application/json", "retry-after": "1" },
  });

export class PortInUseError extends Error {
  constructor(readonly host: string, readonly port: number) {
    super(`port ${port} on ${host} is in use: another atrad (or another program) is listening there. Check with \`atrad status\`, or pick another with --port.`);
  }
}

export interface RunningGateway {
  server: Server<unknown>;
  url: string;
  stop(force?: boolean): Promise<void>;
}

export function startGateway(deps: Omit<GatewayDeps, "relaxTimeout" | "restoreTimeout">, host: string, port: number): RunningGateway {
  let server: Server<unknown>;
  const idleTimeout = deps.config().server.idle_timeout_s;
  const setTimeoutOf = (req: Request, seconds: number) => {
    try {
      server.timeout(req, seconds);
    } catch {
      // the connection is already gone
    }
  };
  const app = createApp({ ...deps, relaxTimeout: (req) => setTimeoutOf(req, 0), restoreTimeout: (req) => setTimeoutOf(req, idleTimeout) });
  try {
    server = Bun.serve({
      hostname: host,
      port,
      reusePort: false,
      // Idle sockets (and slow senders) are cut after server.idle_timeout_s (60 s); a request
      // whose body is in gets no idle limit (relaxTimeout) because local models may think for
      // minutes, and gets it back once answered (restoreTimeout): a kept-alive connection
      // must not stay open forever.
      idleTimeout,
      maxRequestBodySize: deps.config().server.max_body_mb * 1024 * 1024 + 1024 * 1024,
      // Bun.serve has no connection cap; requests in progress are the part that costs memory
      // (bodies, streams, upstream sockets), so past the cap new ones are refused at once.
      fetch: (request) => (server.pendingRequests > deps.config().server.max_connections ? overloaded() : app.handle(request)),
      error: () => new Response(JSON.stringify({ type: "error", error: { type: "api_error", message: "internal error" } }), { status: 500, headers: { "content-type": "application/json" } }),
    });
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === "EADDRINUSE" || /in use|EADDRINUSE/i.test(e.message ?? "")) throw new PortInUseError(host, port);
    throw err;
  }
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    server,
    url: `http://${shownHost}:${server.port}`,
    stop: (force = false) => server.stop(force),
  };
}
