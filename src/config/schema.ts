/**
 * The config file's schema: the single source of truth for the Config type and for every
 * default (annotations that `Value.Default` fills in). Unknown keys are rejected so a typo is
 * reported with its key path instead of being ignored. Each provider table is its kind's own
 * schema (from the provider registry), told apart by `kind`.
 */
import { Type, type Static } from "@sinclair/typebox";
import { LEVELS } from "../log.ts";
import { ProviderTable } from "../providers/index.ts";

export type { Kind } from "../providers/index.ts";

const closed = { additionalProperties: false } as const;
const Targets = Type.Array(Type.String({ minLength: 1 }));
/** Names of providers and services: they appear in targets ("name/model") and key paths. */
const Name = Type.String({ pattern: "^[A-Za-z0-9_.-]+$" });
/** A table that may be left out: its empty default lets `Value.Default` fill in its keys. */
const table = { ...closed, default: {} } as const;

export const DEFAULT_PORT = 8040;
export const DEFAULT_HOST = "127.0.0.1";

export const LogLevel = Type.Union(
  (Object.keys(LEVELS) as Array<keyof typeof LEVELS>).map((l) => Type.Literal(l)),
  { default: "info" },
);

export const ServerSchema = Type.Object(
  {
    /** A non-loopback host requires auth_tokens. */
    host: Type.String({ minLength: 1, default: DEFAULT_HOST }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: DEFAULT_PORT }),
    auth_tokens: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    max_body_mb: Type.Number({ exclusiveMinimum: 0, default: 32 }),
    /** Extra Host names accepted besides loopback ones (DNS-rebinding guard). */
    allowed_hosts: Type.Array(Type.String(), { default: [] }),
    /** Browser origins allowed to call the API cross-origin. */
    allowed_origins: Type.Array(Type.String(), { default: [] }),
    /** Seconds of upstream silence before a `ping` keeps the client's stream alive. */
    ping_interval_s: Type.Number({ exclusiveMinimum: 0, default: 10 }),
    /** Seconds a connection may sit idle (no request, or a request still arriving) before it is closed. */
    idle_timeout_s: Type.Integer({ minimum: 1, maximum: 255, default: 60 }),
    /** On SIGTERM, seconds in-flight streams get to finish before they end with an `error` event. */
    shutdown_grace_s: Type.Number({ minimum: 0, maximum: 14, default: 10 }),
    /** Requests in progress at once, beyond which new ones get 529 at once (not a queue). */
    max_connections: Type.Integer({ minimum: 1, default: 1024 }),
    /**
     * Seconds a streaming request waits for the upstream's first event before its 200 goes out
     * (then pings keep it alive): a failure before then keeps its status, so clients retry it.
     * Claude Code gives up after 5 minutes without a byte.
     */
    stream_commit_s: Type.Number({ exclusiveMinimum: 0, maximum: 290, default: 120 }),
    /**
     * `atrad launch claude` has the main model prefill the fixed start of a session (the last
     * session's system prompt and tools) while Claude Code starts, so the first turn is not
     * the slowest.
     */
    launch_warmup: Type.Boolean({ default: true }),
  },
  table,
);

export const RoutesSchema = Type.Object(
  {
    default: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    opus: Type.Optional(Targets),
    sonnet: Type.Optional(Targets),
    haiku: Type.Optional(Targets),
    /**
     * Routes by the kind of request (Claude Code's `x-claude-code-request-class` hint, or its
     * agent ids): a subagent's turns, a compaction's summary, and background calls (titles,
     * summaries: class `auxiliary`), so they need not evict the main session's cache.
     */
    subagent: Type.Optional(Targets),
    compaction: Type.Optional(Targets),
    background: Type.Optional(Targets),
    aliases: Type.Record(Type.String(), Targets, { default: {} }),
  },
  table,
);

/** The route keys that hold one list of targets, in the order they are shown. */
export const ROUTE_KEYS = ["default", "opus", "sonnet", "haiku", "subagent", "compaction", "background"] as const;
export type RouteKey = (typeof ROUTE_KEYS)[number];

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
    interval_s: Type.Number({ exclusiveMinimum: 0, default: 5 }),
    timeout_s: Type.Number({ exclusiveMinimum: 0, default: 2 }),
    /** How long a (re)started service may take to answer healthy (a big model loads slowly). */
    start_timeout_s: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /** TERM → KILL grace when stopping an owned service's process tree. */
    stop_timeout_s: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    enabled: Type.Boolean({ default: true }),
  },
  table,
);

export const LogSchema = Type.Object({ level: LogLevel }, table);

export const ConfigSchema = Type.Object(
  {
    server: ServerSchema,
    providers: Type.Record(Name, ProviderTable, table),
    routes: RoutesSchema,
    services: Type.Record(Name, ServiceSchema, table),
    log: LogSchema,
  },
  closed,
);

/**
 * The environment variables atrad reads, checked like the file: a bad value is an error naming
 * the variable, not a silent fallback. (ATRAD_HOME and ATRAD_CONFIG are paths, read as given.)
 */
export const EnvSchema = Type.Object({
  ATRAD_HOST: Type.Optional(Type.String({ minLength: 1 })),
  ATRAD_PORT: Type.Optional(Type.String({ pattern: "^[0-9]{1,5}$" })),
  ATRAD_LOG_LEVEL: Type.Optional(LogLevel),
});

/** A checked config document with every default filled in. */
export type ConfigFile = Static<typeof ConfigSchema>;
export type ProviderConfig = Static<typeof ProviderTable>;
export type ServiceConfig = Static<typeof ServiceSchema>;
export type ServerConfig = Static<typeof ServerSchema>;
export type RoutesConfig = Static<typeof RoutesSchema>;
export type LogConfig = Static<typeof LogSchema>;
