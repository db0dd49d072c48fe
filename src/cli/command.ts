/**
 * Commands as data: a command declares its summary, arguments, options and exit codes once,
 * and its usage line, its `--help`, and its usage errors are all generated from that
 * declaration. Parsing is node:util's strict parseArgs, so an option nobody declared is an
 * error, never silently ignored (citty, the shape this follows, accepts unknown flags).
 */
import { parseArgs } from "node:util";
import type { CliIO } from "./io.ts";

export type OptionSpec =
  | { type: "boolean"; short?: string; help: string }
  | { type: "string"; short?: string; help: string; /** the value's placeholder in usage: URL, N, FILE */ value: string; default?: string };

export type Options = Record<string, OptionSpec>;

export interface ArgSpec {
  name: string;
  help: string;
  optional?: boolean;
  /** The only values accepted (a subcommand, say); the first is the default when optional. */
  choices?: readonly string[];
}

export type Values<O extends Options> = {
  [K in keyof O]: O[K] extends { type: "boolean" } ? boolean : O[K] extends { default: string } ? string : string | undefined;
};

export interface Input<O extends Options = Options> {
  values: Values<O>;
  /** The declared arguments, in order (an optional one may be missing). */
  args: string[];
  /** With `rest` declared: everything after the arguments, untouched (a leading `--` dropped). */
  rest: string[];
}

export interface CommandSpec<O extends Options = Options> {
  summary: string;
  args?: readonly ArgSpec[];
  /** Name of the pass-through tail (`launch claude -- ARGS`), if the command takes one. */
  rest?: string;
  options: O;
  /** Exit status → meaning; 2 (usage error) is added for every command. */
  exits: Record<number, string>;
  /** More help text: environment variables, examples. */
  notes?: string;
  run: (input: Input<O>, io: CliIO) => Promise<number>;
}

/** Identity, so `O` is inferred and `run` sees typed values. */
export function defineCommand<O extends Options>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}

/** Bad usage: the command's usage is printed with it and the exit status is 2. */
export class UsageError extends Error {}

export const EXIT_USAGE = 2;
/** No daemon answers (status, reload): what a script checks to start one. */
export const EXIT_DAEMON_DOWN = 3;
/** status: the daemon answered, but a service is `failed` or in `conflict` (it needs a person). */
export const EXIT_SERVICE_FAILED = 4;
/** status: a daemon process is there (it accepts connections) but does not answer: hung. */
export const EXIT_NOT_ANSWERING = 5;
/** launch: no model can answer, so Claude Code is not started (sysexits' EX_UNAVAILABLE). */
export const EXIT_NO_MODEL = 69;

const HELP_OPTION = { type: "boolean", short: "h", help: "print this help and exit" } as const;

function optionLabel(name: string, o: OptionSpec): string {
  const long = `--${name}${o.type === "string" ? ` ${o.value}` : ""}`;
  return o.short ? `-${o.short}, ${long}` : `    ${long}`;
}

function argLabel(a: ArgSpec): string {
  const body = a.choices ? a.choices.join("|") : a.name;
  return a.optional ? `[${body}]` : body;
}

export function usageLine(name: string, spec: CommandSpec<any>): string {
  const parts = [`atrad ${name}`, ...(Object.keys(spec.options).length ? ["[options]"] : []), ...(spec.args ?? []).map(argLabel)];
  if (spec.rest) parts.push(`[-- ${spec.rest}]`);
  return `Usage: ${parts.join(" ")}`;
}

function columns(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([l]) => l.length));
  return rows.map(([l, r]) => `  ${l.padEnd(width)}  ${r}`).join("\n");
}

/** The usage line and the options: what a usage error prints. */
export function usageText(name: string, spec: CommandSpec<any>): string {
  const opts = { ...spec.options, help: HELP_OPTION } as Options;
  const rows = Object.entries(opts).map(([n, o]): [string, string] => [optionLabel(n, o), o.help + (o.type === "string" && o.default ? ` (default: ${o.default})` : "")]);
  const args = (spec.args ?? []).map((a): [string, string] => [argLabel(a), a.help]);
  return `${usageLine(name, spec)}\n${args.length ? `\n${columns(args)}\n` : ""}\nOptions:\n${columns(rows)}\n`;
}

/** `atrad NAME --help`: summary, usage, options, exit codes, notes. */
export function helpText(name: string, spec: CommandSpec<any>): string {
  const exits = Object.entries(exitCodes(spec)).map(([code, meaning]): [string, string] => [code, meaning]);
  return `atrad ${name}: ${spec.summary}\n\n${usageText(name, spec)}\nExit status:\n${columns(exits)}\n${spec.notes ? `\n${spec.notes.trimEnd()}\n` : ""}`;
}

export function exitCodes(spec: CommandSpec<any>): Record<number, string> {
  return { ...spec.exits, [EXIT_USAGE]: "usage error (the usage is printed)" };
}

export type Parsed<O extends Options> = { help: true } | { help: false; input: Input<O> };

/** argv (after the command's name) → the declared values; throws UsageError. */
export function parseInput<O extends Options>(spec: CommandSpec<O>, argv: string[]): Parsed<O> {
  const [head, rest] = spec.rest ? splitRest(spec, argv) : [argv, []];
  const optionPart = head.includes("--") ? head.slice(0, head.indexOf("--")) : head;
  if (optionPart.includes("--help") || optionPart.includes("-h")) return { help: true };
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: head, options: nodeOptions(spec.options), strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError(parseMessage(err, spec.options));
  }
  const declared = spec.args ?? [];
  const args = parsed.positionals;
  if (args.length > declared.length) throw new UsageError(`unexpected argument "${args[declared.length]}"`);
  declared.forEach((a, i) => {
    const v = args[i];
    if (v === undefined) {
      if (!a.optional) throw new UsageError(`missing ${a.name}`);
      return;
    }
    if (a.choices && !a.choices.includes(v)) throw new UsageError(`${a.name.toLowerCase()} "${v}" is not one of ${a.choices.join(", ")}`);
  });
  const values: Record<string, unknown> = {};
  for (const [k, o] of Object.entries(spec.options)) values[k] = parsed.values[k] ?? (o.type === "boolean" ? false : o.default);
  return { help: false, input: { values: values as Values<O>, args, rest } };
}

function nodeOptions(options: Options) {
  const out: Record<string, { type: "boolean" | "string"; short?: string }> = {};
  for (const [k, o] of Object.entries(options)) out[k] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  return out;
}

/** Node's parse errors, reworded: "unknown option --x", "--url needs a value (URL)". */
function parseMessage(err: unknown, options: Options): string {
  const e = err as { code?: string; message?: string };
  const quoted = /'([^']+)'/.exec(e.message ?? "")?.[1] ?? "";
  if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return `unknown option "${quoted}"`;
  if (e.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const name = /--([\w-]+)/.exec(quoted)?.[1] ?? "";
    const o = options[name];
    if (o?.type === "string") return `--${name} needs a value (${o.value})`;
    if (o?.type === "boolean") return `--${name} takes no value`;
  }
  return e.message ?? String(err);
}

/** For a command with a pass-through tail: options and declared arguments, then the tail. */
function splitRest(spec: CommandSpec<any>, argv: string[]): [string[], string[]] {
  const wanted = spec.args?.length ?? 0;
  let seen = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") return [argv.slice(0, i), argv.slice(i + 1)];
    if (a.startsWith("-") && a !== "-") {
      const name = a.replace(/^--?/, "").split("=")[0]!;
      const o = spec.options[name] ?? Object.values(spec.options).find((x) => (x as OptionSpec).short === name);
      if (o?.type === "string" && !a.includes("=")) i++;
      continue;
    }
    if (++seen === wanted) {
      const tail = argv.slice(i + 1);
      return [argv.slice(0, i + 1), tail[0] === "--" ? tail.slice(1) : tail];
    }
  }
  return [argv, []];
}

/** Parse, print help or a usage error, run: the whole contract, for every command. */
export async function runCommand(name: string, spec: CommandSpec<any>, argv: string[], io: CliIO): Promise<number> {
  try {
    const parsed = parseInput(spec, argv);
    if (parsed.help) {
      io.out(helpText(name, spec));
      return 0;
    }
    return await spec.run(parsed.input, io);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`atrad ${name}: ${err.message}\n\n${usageText(name, spec)}\nMore: atrad ${name} --help\n`);
    return EXIT_USAGE;
  }
}
