/** `atrad <command>`: dispatch to one file per command. */
import { versionLine } from "../version.ts";
import { configCommand } from "./config.ts";
import type { CliIO, Command } from "./io.ts";
import { serveCommand } from "./serve.ts";
import { installCommand, restartCommand, startCommand, stopCommand, uninstallCommand } from "./service.ts";
import { launchCommand } from "./launch.ts";
import { doctorCommand } from "./doctor.ts";

export const commands: Record<string, { run: Command; summary: string }> = {
  serve: { run: serveCommand, summary: "run the daemon in the foreground (what launchd/systemd run)" },
  config: { run: configCommand, summary: "config path | print | check | init [--force]" },
  install: { run: installCommand, summary: "install + start the login service [--dry-run] [--platform darwin|linux] [--prefix DIR] [--with-ollama]" },
  uninstall: { run: uninstallCommand, summary: "stop and remove the login service and binary [--purge: also config and logs] [--dry-run]" },
  start: { run: startCommand, summary: "start the daemon (login service, or a background process where there is none)" },
  stop: { run: stopCommand, summary: "stop the daemon" },
  restart: { run: restartCommand, summary: "restart the daemon" },
  launch: { run: launchCommand, summary: "launch claude [-- ARGS]: ensure the daemon is up, then run Claude Code against it" },
  doctor: { run: doctorCommand, summary: "check the service, port, Ollama, routes' models, MLX port, Claude Code, logs" },
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
