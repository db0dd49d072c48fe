/** `atrad <command>`: dispatch to one file per command. */
import { versionLine } from "../version.ts";
import { configCommand } from "./config.ts";
import type { CliIO, Command } from "./io.ts";
import { reloadCommand } from "./reload.ts";
import { serveCommand } from "./serve.ts";
import { statuslineCommand } from "./statusline.ts";

export const commands: Record<string, { run: Command; summary: string }> = {
  serve: { run: serveCommand, summary: "run the daemon in the foreground (what launchd/systemd run)" },
  config: { run: configCommand, summary: "config path | print | check | init [--force]" },
  reload: { run: reloadCommand, summary: "re-read the config in the running daemon (also: SIGHUP, or just edit the file)" },
  statusline: { run: statuslineCommand, summary: "one line for Claude Code's statusLine: who served this session" },
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
