/**
 * `atrad <command>`: look the command up in the table (commands.ts) and run it through the one
 * contract of command.ts — `--help` on every command, usage errors exit 2 with the usage.
 */
import { versionLine } from "../version.ts";
import { EXIT_USAGE, helpText, runCommand } from "./command.ts";
import { commands } from "./commands.ts";
import type { CliIO } from "./io.ts";

export { commands };

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return (
    `atrad — Anthropic Messages API for local models, and a supervisor for the local AI stack\n\n` +
    `Usage: atrad <command> [options]\n\n${lines.join("\n")}\n\n` +
    `  -V, --version  print atrad's and Bun's versions\n  -h, --help     this list; atrad <command> --help for one command\n`
  );
}

export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-V" || name === "-v" || name === "version") {
    io.out(versionLine() + "\n");
    return 0;
  }
  const topic = name === "help" ? rest[0] : undefined;
  if (!name || name === "--help" || name === "-h" || (name === "help" && !topic)) {
    io.out(usage());
    return 0;
  }
  const command = commands[topic ?? name];
  if (!command) {
    io.err(`atrad: unknown command "${topic ?? name}"\n\n${usage()}`);
    return EXIT_USAGE;
  }
  if (topic) {
    io.out(helpText(topic, command));
    return 0;
  }
  try {
    return await runCommand(name, command, rest, io);
  } catch (err) {
    io.err(`atrad ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
