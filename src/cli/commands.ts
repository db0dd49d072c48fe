/**
 * The command table: every `atrad` command, its options and exit codes, declared once. Usage,
 * `--help` and usage errors come from here (command.ts); each command's module is imported
 * only when it runs — loading Elysia for `status` cost ~100 ms per invocation.
 *
 * A new command: one entry here plus one file exporting its `run`, typed `Input<typeof opts>`.
 */
import { EXIT_CONFIG, EXIT_IN_USE, SUPERVISED_BY } from "../platform/exit-codes.ts";
import { defineCommand, EXIT_DAEMON_DOWN, EXIT_NO_MODEL, EXIT_NOT_ANSWERING, EXIT_SERVICE_FAILED, type CommandSpec, type Input, type Options } from "./command.ts";
import type { CliIO } from "./io.ts";

const CONFIG = { type: "string", value: "FILE", help: "the config file (default: $ATRAD_CONFIG, else $ATRAD_HOME/config.toml)" } as const;
const URL_OPT = { type: "string", value: "URL", help: "the daemon's address (default: found from $ATRAD_HOME/run/atrad.json, else the config)" } as const;

export const serveOptions = {
  config: CONFIG,
  host: { type: "string", value: "HOST", help: "listen address (default: [server] host)" },
  port: { type: "string", value: "N", help: "listen port, 0 for any free one (default: [server] port)" },
} as const satisfies Options;

export const statusOptions = {
  json: { type: "boolean", help: "print the status document as JSON" },
  url: URL_OPT,
  config: CONFIG,
  timeout: { type: "string", value: "S", default: "3", help: "how long to wait for the daemon's answer, in seconds, before calling it not answering" },
} as const satisfies Options;

export const logsOptions = {
  follow: { type: "boolean", short: "f", help: "keep printing lines as they are written (across rotation)" },
  lines: { type: "string", short: "n", value: "N", default: "100", help: "how many of the last lines to print" },
  list: { type: "boolean", help: "list the logs there are, and where" },
} as const satisfies Options;

const SERVICE_COMMON = {
  "dry-run": { type: "boolean", help: "print the plist/unit and every step; run nothing" },
  platform: { type: "string", value: "darwin|linux", help: "render for that OS (launchd or systemd --user)" },
  prefix: { type: "string", value: "DIR", help: "atrad's binary is DIR/bin/atrad (default: where install put it, else Homebrew's prefix, else ~/.local)" },
} as const satisfies Options;

export const serviceOptions = {
  ...SERVICE_COMMON,
  binary: { type: "string", value: "PATH", help: "the executable to install (default: this atrad)" },
  "with-ollama": { type: "boolean", help: "also start Homebrew's Ollama (brew services start ollama)" },
  purge: { type: "boolean", help: "also remove config, state and logs" },
} as const satisfies Options;

const { binary, "with-ollama": withOllama, purge } = serviceOptions;
const SERVICE_NOTES = "ATRAD_SERVICE_MANAGER=launchd|systemd|none overrides detection (none: a background process with a pidfile).";
const SERVICE_EXITS = { 0: "done", 1: "a step failed, or atrad is not installed as a login service (the message says which)" };
const ACTION_EXITS = { ...SERVICE_EXITS, 1: `${SERVICE_EXITS[1]}; with NAME: the daemon refused (no such service, or one atrad only watches)`, 3: "with NAME: no daemon answers" };
const SERVICE_NAME = { name: "NAME", optional: true, help: "one supervised service (as in atrad status) instead of the daemon" } as const;
const SERVICE_ACTION = { ...SERVICE_COMMON, url: URL_OPT } as const satisfies Options;

export const reloadOptions = { url: URL_OPT } as const satisfies Options;
export const statuslineOptions = { url: URL_OPT, plain: { type: "boolean", help: "no colour" } } as const satisfies Options;
export const configOptions = { config: CONFIG, force: { type: "boolean", help: "init: replace an existing file" } } as const satisfies Options;

/** The service commands share one implementation (service.ts); each declares what it takes. */
const service =
  (op: "install" | "uninstall" | "start" | "stop" | "restart") =>
  async (input: Input<any>, io: CliIO): Promise<number> =>
    (await import("./service.ts")).serviceCommand(op, input, io);

export const commands: Record<string, CommandSpec<any>> = {
  serve: defineCommand({
    summary: "run the daemon in the foreground (what launchd/systemd run)",
    options: serveOptions,
    exits: {
      0: `stopped by SIGTERM/SIGINT (also ${EXIT_CONFIG} and ${EXIT_IN_USE} when run by launchd, ${SUPERVISED_BY}=launchd: its KeepAlive relaunches only failing exits)`,
      1: "an unexpected error",
      [EXIT_CONFIG]: "the config is invalid, or a non-loopback bind has no auth tokens",
      [EXIT_IN_USE]: "the port is in use, or another atrad runs for this ATRAD_HOME",
    },
    run: async (input, io) => (await import("./serve.ts")).serveCommand(input, io),
  }),
  status: defineCommand({
    summary: "the daemon, its providers and the supervised services",
    options: statusOptions,
    exits: {
      0: "the daemon answered and no service needs attention",
      1: "something answered that is not atrad's status",
      [EXIT_DAEMON_DOWN]: "the daemon is down (services are probed directly)",
      [EXIT_SERVICE_FAILED]: "the daemon answered, and a service is failed or in conflict",
      [EXIT_NOT_ANSWERING]: "a daemon accepts connections but does not answer (hung; services are probed directly)",
    },
    run: async (input, io) => (await import("./status.ts")).statusCommand(input, io),
  }),
  logs: defineCommand({
    summary: "print a log: the daemon's (default), the request log (requests), or a supervised service's",
    args: [{ name: "NAME", optional: true, help: "atrad (the daemon), requests (requests.jsonl, one JSON line per request), or a service name" }],
    options: logsOptions,
    exits: { 0: "printed (or followed until interrupted)", 1: "there is no such log yet (the message says where it will be)" },
    run: async (input, io) => (await import("./logs.ts")).logsCommand(input, io),
  }),
  install: defineCommand({
    summary: "install and start the login service (launchd, systemd --user, or a background process)",
    options: { ...SERVICE_COMMON, binary, "with-ollama": withOllama },
    exits: SERVICE_EXITS,
    notes: SERVICE_NOTES,
    run: service("install"),
  }),
  uninstall: defineCommand({
    summary: "stop and remove the login service and the binary",
    options: { ...SERVICE_COMMON, purge },
    exits: SERVICE_EXITS,
    notes: SERVICE_NOTES,
    run: service("uninstall"),
  }),
  // start / stop / restart act on the daemon, or with NAME on one supervised service.
  start: defineCommand({ summary: "start the daemon (login service, or a background process where there is none), or one service: start NAME", args: [SERVICE_NAME], options: SERVICE_ACTION, exits: ACTION_EXITS, notes: SERVICE_NOTES, run: service("start") }),
  stop: defineCommand({ summary: "stop the daemon, or one service: stop NAME (it stays stopped until start NAME)", args: [SERVICE_NAME], options: SERVICE_ACTION, exits: ACTION_EXITS, notes: SERVICE_NOTES, run: service("stop") }),
  restart: defineCommand({ summary: "restart the daemon, or one service: restart NAME (also brings a failed one back)", args: [SERVICE_NAME], options: SERVICE_ACTION, exits: ACTION_EXITS, notes: SERVICE_NOTES, run: service("restart") }),
  reload: defineCommand({
    summary: "re-read the config in the running daemon (also: SIGHUP, or just edit the file)",
    options: reloadOptions,
    exits: { 0: "reloaded", 1: "the new config was rejected; the running one stays", [EXIT_DAEMON_DOWN]: "no daemon answers" },
    run: async (input, io) => (await import("./reload.ts")).reloadCommand(input, io),
  }),
  launch: defineCommand({
    summary: "make sure the daemon is up, then run Claude Code against it",
    args: [{ name: "TOOL", choices: ["claude"], help: "what to launch (only Claude Code)" }],
    rest: "ARGS",
    options: {},
    exits: { 0: "Claude Code's own exit status is passed on", 1: "the daemon could not be started", [EXIT_NO_MODEL]: "no model can answer (every target down, or missing its model): the message says what to start or pull", 127: "`claude` is not on PATH" },
    notes: "ARGS (after `claude`, optionally after `--`) are passed to Claude Code untouched.",
    run: async (input, io) => (await import("./launch.ts")).launchCommand(input, io),
  }),
  statusline: defineCommand({
    summary: "one line for Claude Code's statusLine setting: who served this session",
    options: statuslineOptions,
    exits: { 0: "always: a broken status line is worse than a quiet one" },
    notes: "Claude Code runs it with the session as JSON on stdin; typed in a terminal, it explains itself instead of waiting.",
    run: async (input, io) => (await import("./statusline.ts")).statuslineCommand(input, io),
  }),
  doctor: defineCommand({
    summary: "check the service, the port, the providers and their models, Claude Code, the logs",
    options: {},
    exits: { 0: "no check of atrad's own duties failed (warnings allowed)", 1: "a check failed; each failure prints its fix" },
    run: async (input, io) => (await import("./doctor.ts")).doctorCommand(input, io),
  }),
  config: defineCommand({
    summary: "the config file: where it is, what is in effect, whether it is valid, a first one",
    args: [{ name: "SUBCOMMAND", optional: true, choices: ["path", "print", "check", "init"], help: "path (default) | print the effective config | check it | init: write one from the running providers" }],
    options: configOptions,
    exits: { 0: "done", 1: "the config is invalid, or init would overwrite a file (use --force)" },
    run: async (input, io) => (await import("./config.ts")).configCommand(input, io),
  }),
};
