/**
 * `POST /atrad/services/NAME/start|stop|restart`: act on one supervised service (what
 * `atrad start|stop|restart NAME` calls). Behind the gateway's guard like every `/atrad/*`
 * path; refusals leave in the Anthropic error envelope.
 */
import { Elysia, type AnyElysia } from "elysia";
import { AtradError } from "../anthropic/errors.ts";
import type { RequestAction } from "../supervisor/machine.ts";
import type { Supervisor } from "../supervisor/supervisor.ts";

const ACTIONS: readonly RequestAction[] = ["start", "stop", "restart"];

/** `base` plus the service routes (the gateway mounts one extra route group). */
export function withServiceRoutes(base: AnyElysia, supervisor: Supervisor | undefined): AnyElysia {
  return new Elysia({ name: "atrad-daemon-routes" }).use(base).post("/atrad/services/:name/:action", ({ params }) => {
    const action = params.action as RequestAction;
    if (!ACTIONS.includes(action)) throw new AtradError("not_found_error", `unknown action "${params.action}": one of ${ACTIONS.join(", ")}`);
    if (!supervisor) throw new AtradError("not_found_error", "this daemon runs without a supervisor");
    const r = supervisor.request(params.name, action);
    if (!r.ok) throw new AtradError(r.status === 404 ? "not_found_error" : "invalid_request_error", r.error, { status: r.status });
    return { ok: true, action, service: r.service };
  });
}
