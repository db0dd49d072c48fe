/**
 * The config file's schema: the single source of truth for the Config type. Unknown keys are
 * rejected so a typo is reported with its key path instead of being ignored. Each provider
 * table is its kind's own schema (from the provider registry), told apart by `kind`.
 */
import { Type, type Static } from "@sinclair/typebox";
import { ProviderTable } from "../providers/index.ts";

export type { Kind } from "../providers/index.ts";

const closed = { additionalProperties: false } as const;
const Seconds = Type.Number({ minimum: 0 });
const Targets = Type.Array(Type.String({ minLength: 1 }));
/** Names of providers and services: they appear in targets ("name/model") and key paths. */
const Name = Type.String({ pattern: "^[A-Za-z0-9_.-]+$" });

export const ServerSchema = Type.Object(
  {
    host: Type.Optional(Type.String({ minLength: 1 })),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    auth_tokens: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    max_body_mb: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /** Extra Host names accepted besides loopback ones (DNS-rebinding guard). */
    allowed_hosts: Type.Optional(Type.Array(Type.String())),
    /** Browser origins allowed to call the API cross-origin. */
    allowed_origins: Type.Optional(Type.Array(Type.String())),
    /** Seconds of upstream silence before a `ping` keeps the client's stream alive. */
    ping_interval_s: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /** Seconds a connection may sit idle (no request, or a request still arriving) before it is closed. */
    idle_timeout_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 255 })),
    /** On SIGTERM, seconds in-flight streams get to finish before they end with an `error` event. */
    shutdown_grace_s: Type.Optional(Type.Number({ minimum: 0, maximum: 14 })),
    /** Requests in progress at once, beyond which new ones get 529 at once (not a queue). */
    max_connections: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  closed,
);

export const RoutesSchema = Type.Object(
  {
    default: Type.Optional(Targets),
    opus: Type.Optional(Targets),
    sonnet: Type.Optional(Targets),
    haiku: Type.Optional(Targets),
    aliases: Type.Optional(Type.Record(Type.String(), Targets)),
  },
  closed,
);

export const ServiceSchema = Type.Object(
  {
    health: Type.Optional(Type.String({ minLength: 1 })),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    /** JSON fields of the health body that must hold one of the listed values. */
    expect: Type.Optional(Type.Record(Type.String(), Type.Array(Type.Union([Type.String(), Type.Number(), Type.Boolean()])))),
    command: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
    cwd: Type.Optional(Type.String()),
    env: Type.Optional(Type.Record(Type.String(), Type.String())),
    restart: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
    provider: Type.Optional(Type.String()),
    interval_s: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    timeout_s: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /** How long a (re)started service may take to answer healthy (a big model loads slowly). */
    start_timeout_s: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /** TERM → KILL grace when stopping an owned service's process tree. */
    stop_timeout_s: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    enabled: Type.Optional(Type.Boolean()),
  },
  closed,
);

export const ConfigSchema = Type.Object(
  {
    server: Type.Optional(ServerSchema),
    providers: Type.Optional(Type.Record(Name, ProviderTable, closed)),
    routes: Type.Optional(RoutesSchema),
    services: Type.Optional(Type.Record(Name, ServiceSchema, closed)),
    log: Type.Optional(Type.Object({ level: Type.Optional(Type.String()) }, closed)),
  },
  closed,
);

export type ConfigFile = Static<typeof ConfigSchema>;
export type ProviderConfig = Static<typeof ProviderTable>;
export type ServiceConfig = Static<typeof ServiceSchema>;
export type RoutesConfig = Static<typeof RoutesSchema>;
