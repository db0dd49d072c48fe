/**
 * A stand-in for Victoria's FastAPI bridge (`victoria_server.py`): `POST /run`
 * answering 200 synchronously or 202 with a task to poll at `GET /run/status/{task_id}`
 * (404 `{"detail"}` once unknown), HTTP 500 `{"detail"}` on failure, 422 when `goal` is
 * missing, and `GET /health`. It records every body and poll, and counts how many goals are
 * being worked on at once, so tests can assert on concurrency and cancellation.
 */
import { serve, type Served } from "./base.ts";

export interface StatusDoc {
  status: "queued" | "processing" | "running" | "completed" | "failed";
  stage?: string;
  output?: string;
  error?: string;
}

export type Behaviour =
  /** Answer POST /run itself: 200 with `body`, or any status (500 + `{"detail"}`). */
  | { type: "sync"; status?: number; body: unknown; hold?: Promise<unknown> }
  /**
   * Accept with 202 and serve the task's status per poll: `poll(n)` is called for the n-th
   * poll (0-based) and may hang (a slow orchestration). `forget` makes the task unknown (404).
   */
  | { type: "async"; poll: (n: number, signal: AbortSignal) => StatusDoc | Promise<StatusDoc>; forget?: boolean };

export interface Submission {
  query: string;
  headers: Record<string, string>;
  body: any;
  taskId?: string;
}

export interface Poll {
  taskId: string;
  n: number;
  aborted: boolean;
  answered?: string;
}

export interface VictoriaStandIn extends Served {
  submissions: Submission[];
  polls: Poll[];
  /** Goals being worked on right now, and the most ever at once. */
  active: number;
  maxActive: number;
  behave: (body: any) => Behaviour;
  /** Resolves when `count` polls (in total) have arrived. */
  pollsReached(count: number): Promise<void>;
}

/** Serve the docs in order, repeating the last one. */
export function sequence(...docs: StatusDoc[]): (n: number) => StatusDoc {
  return (n) => docs[Math.min(n, docs.length - 1)]!;
}

export function startVictoriaStandIn(opts: { port?: number; agent?: string } = {}): VictoriaStandIn {
  const tasks = new Map<string, { behaviour: Extract<Behaviour, { type: "async" }>; polls: number; done: boolean }>();
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const begin = () => {
    state.active++;
    state.maxActive = Math.max(state.maxActive, state.active);
  };

  const state: VictoriaStandIn = serve<VictoriaStandIn>(
    {
      submissions: [],
      polls: [],
      active: 0,
      maxActive: 0,
      behave: (body) => ({ type: "sync", body: { status: "success", output: `echo: ${body.goal}`, knowledge: {}, correlation_id: null } }),
      pollsReached: (count) => (state.polls.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))),
    },
    async (req, url) => {
      if (req.method === "GET" && url.pathname === "/health") return Response.json({ status: "ok", agent: opts.agent ?? "Victoria" });

      const statusMatch = /^\/run\/status\/([^/]+)$/.exec(url.pathname);
      if (req.method === "GET" && statusMatch) {
        const taskId = decodeURIComponent(statusMatch[1]!);
        const poll: Poll = { taskId, n: state.polls.length, aborted: false };
        state.polls.push(poll);
        req.signal.addEventListener("abort", () => (poll.aborted = true));
        for (const w of waiters.filter((w) => state.polls.length >= w.count)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
        const task = tasks.get(taskId);
        if (!task) return Response.json({ detail: `Task ${taskId} not found` }, { status: 404 });
        const doc = await task.behaviour.poll(task.polls++, req.signal);
        if (!task.done && (doc.status === "completed" || doc.status === "failed")) {
          task.done = true;
          state.active--;
        }
        poll.answered = doc.status;
        return Response.json({
          task_id: taskId,
          status: doc.status,
          stage: doc.stage ?? null,
          // Victoria cuts the output it keeps for status at 8000 characters.
          output: doc.output === undefined ? null : doc.output.slice(0, 8000),
          knowledge: null,
          error: doc.error ?? null,
          correlation_id: req.headers.get("x-correlation-id"),
          updated_at: new Date().toISOString(),
        });
      }

      if (req.method !== "POST" || url.pathname !== "/run") return Response.json({ detail: "Not Found" }, { status: 404 });
      let body: any;
      try {
        body = await req.json();
      } catch {
        return Response.json({ detail: [{ type: "json_invalid", loc: ["body"], msg: "JSON decode error" }] }, { status: 422 });
      }
      const sub: Submission = { query: url.search, headers: Object.fromEntries(req.headers), body };
      state.submissions.push(sub);
      if (typeof body?.goal !== "string")
        return Response.json({ detail: [{ type: "missing", loc: ["body", "goal"], msg: "Field required" }] }, { status: 422 });
      const correlationId = req.headers.get("x-correlation-id");
      const behaviour = state.behave(body);
      const asyncMode = url.searchParams.get("async_mode") === "true";
      if (behaviour.type === "async" && asyncMode) {
        const taskId = `task-${crypto.randomUUID().slice(0, 8)}`;
        sub.taskId = taskId;
        begin();
        if (!behaviour.forget) tasks.set(taskId, { behaviour, polls: 0, done: false });
        return Response.json(
          { task_id: taskId, correlation_id: correlationId, status_url: `/run/status/${taskId}`, message: "Task accepted" },
          { status: 202 },
        );
      }
      if (behaviour.type === "async") return Response.json({ detail: "this stand-in task needs async_mode=true" }, { status: 500 });
      begin();
      try {
        await behaviour.hold;
        const payload = typeof behaviour.body === "object" && behaviour.body ? { correlation_id: correlationId, ...behaviour.body } : behaviour.body;
        return Response.json(payload, { status: behaviour.status ?? 200 });
      } finally {
        state.active--;
      }
    },
    opts.port,
  );
  return state;
}
