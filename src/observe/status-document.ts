/**
 * The status document — `GET /atrad/status` and `atrad status --json` — as one TypeBox schema:
 * the daemon's builder (daemon/status.ts) and the CLI's offline builder (cli/status.ts) are
 * typed by it, so a forgotten field fails the compiler; the table and the status page read its
 * `Static` type; and the CLI checks what a daemon answers against it. Objects stay open (extra
 * fields pass), so an older CLI still reads a newer daemon.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const ServiceStateSchema = Type.Union(
  (["up", "degraded", "down", "starting", "backoff", "failed", "conflict", "stopped"] as const).map((s) => Type.Literal(s)),
);

/** One supervised port, as the supervisor reports it. */
export const ServiceEntrySchema = Type.Object({
  name: Type.String(),
  port: Nullable(Type.Integer()),
  state: ServiceStateSchema,
  /** atrad started (and restarts) it, rather than only watching its port. */
  owned: Type.Boolean(),
  pid: Nullable(Type.Integer()),
  restarts: Type.Integer({ minimum: 0 }),
  /** When it entered `state` (ISO 8601). */
  since: Type.String(),
  last_error: Nullable(Type.String()),
  provider: Type.Optional(Type.String()),
  health: Type.Optional(Type.String()),
  /** Who holds the port when it is in conflict. */
  holder: Type.Optional(Type.Object({ pid: Type.Integer(), command: Type.String() })),
  /** The service log's last lines once it has `failed`. */
  log_tail: Type.Optional(Type.Array(Type.String())),
  /** Worth knowing, not a state: e.g. a process a previous atrad left that could not be confirmed as its child. */
  note: Type.Optional(Type.String()),
  /** The last run of an external service's `restart` command: how it ended and what it said. */
  restart_command: Type.Optional(
    Type.Object({
      state: Type.Union([Type.Literal("running"), Type.Literal("succeeded"), Type.Literal("failed")]),
      at: Type.String(),
      exit_code: Nullable(Type.Integer()),
      output_tail: Type.Array(Type.String()),
    }),
  ),
});

/** The last hour's traffic of one provider. */
export const ProviderStatsSchema = Type.Object({
  requests_1h: Type.Integer({ minimum: 0 }),
  errors_1h: Type.Integer({ minimum: 0 }),
  p50_ms: Nullable(Type.Number()),
  p95_ms: Nullable(Type.Number()),
  ttft_p50_ms: Nullable(Type.Number()),
});

export const ProviderEntrySchema = Type.Object({
  name: Type.String(),
  kind: Type.String(),
  url: Type.String(),
  /** up/down from the daemon; with the daemon down, its backing service's state or unknown. */
  state: Type.Union([ServiceStateSchema, Type.Literal("unknown")]),
  models: Type.Array(Type.String()),
  error: Type.Optional(Type.String()),
  // Known only while the daemon runs (absent from `atrad status` with the daemon down).
  hosts: Type.Optional(Type.Array(Type.Object({ url: Type.String(), state: Type.String(), in_flight: Type.Integer({ minimum: 0 }) }))),
  in_flight: Type.Optional(Type.Integer({ minimum: 0 })),
  queued: Type.Optional(Type.Integer({ minimum: 0 })),
  stats: Type.Optional(ProviderStatsSchema),
});

/** The daemon's files: a failing disk is reported here, not fatal. */
export const DiskSchema = Type.Object({
  home: Type.String(),
  /** Why ATRAD_HOME could not be written at start; the daemon then logs to stderr only. */
  home_error: Nullable(Type.String()),
  request_log: Type.Object({
    path: Type.String(),
    /** Why the last append failed; null while appends work (failed ones are retried). */
    error: Nullable(Type.String()),
    since: Nullable(Type.String()),
    pending: Type.Integer({ minimum: 0 }),
    dropped: Type.Integer({ minimum: 0 }),
  }),
});

export const StatusDocumentSchema = Type.Object({
  daemon: Type.Object({
    running: Type.Boolean(),
    pid: Nullable(Type.Integer()),
    version: Type.String(),
    url: Type.String(),
    uptime_s: Nullable(Type.Number()),
    /** false: a daemon process holds the address but did not answer (hung); absent otherwise. */
    answering: Type.Optional(Type.Boolean()),
  }),
  providers: Type.Array(ProviderEntrySchema),
  services: Type.Array(ServiceEntrySchema),
  /** The routing table as configured: route or alias name → ordered targets. */
  routes: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
  /** The loaded config file, when, and the last rejected reload's error and time. */
  config: Type.Optional(
    Type.Object({ file: Type.String(), loaded_at: Type.String(), error: Nullable(Type.String()), rejected_at: Type.Optional(Nullable(Type.String())) }),
  ),
  disk: Type.Optional(DiskSchema),
});

export type StatusDocument = Static<typeof StatusDocumentSchema>;
export type ServiceEntry = Static<typeof ServiceEntrySchema>;
export type ProviderEntry = Static<typeof ProviderEntrySchema>;

/** Why `x` is not a status document (the first mismatch, with its path), or undefined. */
export function statusDocumentError(x: unknown): string | undefined {
  if (Value.Check(StatusDocumentSchema, x)) return undefined;
  const first = Value.Errors(StatusDocumentSchema, x).First();
  return first ? `${first.path || "/"}: ${first.message}` : "not a status document";
}
