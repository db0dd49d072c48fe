/**
 * The listening socket: Bun.listen, one `Connection` per client, one sweeper for every
 * connection's idle deadline (a timer per connection, armed and cleared per request, would cost
 * more than the request's own work), and the stop: stop accepting, close what is idle, wait
 * for the answers in progress.
 */
import type { Socket } from "bun";
import { Connection, type Host } from "./connection.ts";

export type Handlers = Omit<Host, "stopping" | "begin" | "finish" | "closed">;

export interface Listening {
  port: number;
  readonly inFlight: number;
  stop(force?: boolean): Promise<void>;
}


/** Throws what Bun.listen throws (EADDRINUSE when the port is taken: the bind is exclusive). */
export function listenHttp(hostname: string, port: number, handlers: Handlers): Listening {
  const conns = new Set<Connection>();
  let inFlight = 0;
  let stopping = false;
  let waiters: Array<() => void> = [];
  let sweeper: ReturnType<typeof setInterval> | undefined;
  const sweep = () => {
    const now = Date.now();
    for (const c of conns) c.expire(now);
  };
  const host: Host = {
    ...handlers,
    get stopping() {
      return stopping;
    },
    begin: () => void inFlight++,
    finish: () => {
      if (--inFlight === 0 && waiters.length) for (const resolve of waiters.splice(0)) resolve();
    },
    closed: (c) => {
      conns.delete(c);
      if (conns.size === 0 && sweeper) {
        clearInterval(sweeper);
        sweeper = undefined;
      }
    },
  };
  const listener = Bun.listen<Connection>({
    hostname,
    port,
    exclusive: true,
    // The client's FIN is the client gone (as node:http has it): what it asked is cancelled.
    allowHalfOpen: false,
    socket: {
      open(socket: Socket<Connection>) {
        if (stopping) return void socket.end();
        const c = new Connection(socket, host);
        socket.data = c;
        conns.add(c);
        // A quarter of the idle limit, at most a second: precise enough, and few wake-ups.
        sweeper ??= setInterval(sweep, Math.min(1000, Math.max(50, handlers.idleMs() / 4)));
      },
      data: (socket, chunk) => socket.data?.data(chunk),
      drain: (socket) => socket.data?.out.flush(),
      close: (socket) => socket.data?.gone(),
      error: (socket) => socket.data?.destroy(true),
    },
  });
  return {
    port: listener.port,
    get inFlight() {
      return inFlight;
    },
    async stop(force = false) {
      stopping = true;
      listener.stop(false);
      for (const c of conns) {
        if (force) c.destroy();
        else if (c.idle) c.close();
      }
      if (force) return;
      if (inFlight > 0) await new Promise<void>((resolve) => waiters.push(resolve));
      for (const c of conns) if (c.idle) c.close();
    },
  };
}
