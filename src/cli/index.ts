/**
 * `atrad <command>`: dispatch to one file per command. Each command's module is imported only
 * when it runs: loading Elysia for `--version` or `status` cost ~100 ms per invocation.
 */
import { versionLine } from "../version.ts";
import type { CliIO, Command } from "./io.ts";

export const commands: Record<string, { run: Command; summary: string }> = {
  serve: { run: async (a, io) => (await import("./serve.ts")).serveCommand(a, io), summary: "run the daemon in the foreground (what launchd/systemd run)" },
  status: { run: async (a, io) => (await import("./status.ts")).statusCommand(a, io), summary: "daemon, providers and services [--json] [--url URL]; exit 3 when the daemon is down" },
  logs: { run: async (a, io) => (await import("./logs.ts")).logsCommand(a, io), summary: "[-f] [-n N] [NAME]: the daemon's log, or a supervised service's" },
  install: { run: async (a, io) => (await import("./service.ts")).installCommand(a, io), summary: "install + start the login service [--dry-run] [--platform darwin|linux] [--prefix DIR] [--with-ollama]" },
  uninstall: { run: async (a, io) => (await import("./service.ts")).uninstallCommand(a, io), summary: "stop and remove the login service and binary [--purge: also config and logs] [--dry-run]" },
  start: { run: async (a, io) => (await import("./service.ts")).startCommand(a, io), summary: "start the daemon (login service, or a background process where there is none)" },
  stop: { run: async (a, io) => (await import("./service.ts")).stopCommand(a, io), summary: "stop the daemon" },
  restart: { run: async (a, io) => (await import("./service.ts")).restartCommand(a, io), summary: "restart the daemon" },
  reload: { run: async (a, io) => (await import("./reload.ts")).reloadCommand(a, io), summary: "re-read the config in the running daemon (also: SIGHUP, or just edit the file)" },
  launch: { run: async (a, io) => (await import("./launch.ts")).launchCommand(a, io), summary: "launch claude [-- ARGS]: ensure the daemon is up, then run Claude Code against it" },
  statusline: { run: async (a, io) => (await import("./statusline.ts")).statuslineCommand(a, io), summary: "one line for Claude Code's statusLine: who served this session" },
  doctor: { run: async (a, io) => (await import("./doctor.ts")).doctorCommand(a, io), summary: "check the service, port, Ollama, routes' models, MLX port, Claude Code, logs" },
  config: { run: async (a, io) => (await import("./config.ts")).configCommand(a, io), summary: "config path | print | check | init [--force]" },
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `atrad — Anthropic Messages API for local models, and a supervisor for the local AI stack\n\nUsage: atrad <command> [options]\n\n${lines.join("\n")}\n\n  --version  print atrad's and Bun's versions\n`;
}

export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-v" || name === "version") {
    io.out(versionLine() + "\n");
    return 0;
  }
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.out(usage());
    return 0;
  }
  const command = commands[name];
  if (!command) {
    io.err(`atrad: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    io.err(`atrad ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
