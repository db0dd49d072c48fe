/** `atrad <command>`: dispatch to one file per command. */
import { versionLine } from "../version.ts";
import type { CliIO, Command } from "./io.ts";

export const commands: Record<string, { run: Command; summary: string }> = {
  serve: { run: async (a, io) => (await import("./serve.ts")).serveCommand(a, io), summary: "run the daemon in the foreground (what launchd/systemd run)" },
  config: { run: async (a, io) => (await import("./config.ts")).configCommand(a, io), summary: "config path | print | check | init [--force]" },
  status: { run: async (a, io) => (await import("./status.ts")).statusCommand(a, io), summary: "daemon, providers and services [--json] [--url URL]; exit 3 when the daemon is down" },
  logs: { run: async (a, io) => (await import("./logs.ts")).logsCommand(a, io), summary: "[-f] [-n N] [NAME]: the daemon's log, or a supervised service's" },
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
