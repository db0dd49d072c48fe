/**
 * The CLI contract, for every command in the table (a new command is covered by being added):
 * `--help` exits 0 and lists that command's options and exit codes; an unknown option or a
 * malformed value exits 2 with the command's usage on stderr and runs nothing.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exitCodes, parseInput, type Options } from "../../src/cli/command.ts";
import { commands, runCli, usage } from "../../src/cli/index.ts";
import type { CliIO } from "../../src/cli/io.ts";

function captureIO() {
  const home = mkdtempSync(join(tmpdir(), "atrad-cmd-"));
  const io = {
    stdout: "",
    stderr: "",
    home,
    env: { HOME: home, ATRAD_HOME: join(home, ".atrad"), PATH: "/usr/bin:/bin", ATRAD_SERVICE_MANAGER: "none" },
    isTTY: false,
    out: (t: string) => void (io.stdout += t),
    err: (t: string) => void (io.stderr += t),
  };
  return io as CliIO & { stdout: string; stderr: string; home: string };
}

const names = Object.keys(commands);

describe("every command's --help", () => {
  test.each(names)("atrad %s --help: exit 0, its options, its exit codes", async (name) => {
    const spec = commands[name]!;
    for (const flag of ["--help", "-h"]) {
      const io = captureIO();
      expect(await runCli([name, flag], io)).toBe(0);
      expect(io.stderr).toBe("");
      expect(io.stdout).toContain(`Usage: atrad ${name}`);
      expect(io.stdout).toContain(spec.summary);
      for (const [option, o] of Object.entries(spec.options as Options)) {
        expect(io.stdout).toContain(`--${option}`);
        expect(io.stdout).toContain(o.help);
        if (o.short) expect(io.stdout).toContain(`-${o.short}, --${option}`);
      }
      for (const [code, meaning] of Object.entries(exitCodes(spec))) expect(io.stdout).toMatch(new RegExp(`^  ${code} +${RegExp.escape(meaning)}$`, "m"));
      // --help ran nothing: no state, config or log was written.
      expect(readdirSync(io.home)).toEqual([]);
    }
  });

  test("atrad help NAME is the same text", async () => {
    for (const name of names) {
      const a = captureIO();
      const b = captureIO();
      expect(await runCli(["help", name], a)).toBe(0);
      await runCli([name, "--help"], b);
      expect(a.stdout).toBe(b.stdout);
    }
  });

  test("the top-level usage lists every command and -V", async () => {
    const io = captureIO();
    expect(await runCli(["--help"], io)).toBe(0);
    for (const name of names) expect(io.stdout).toMatch(new RegExp(`^  ${name} +${RegExp.escape(commands[name]!.summary)}$`, "m"));
    expect(usage()).toContain("-V, --version");
  });
});

describe("usage errors exit 2 with the command's usage", () => {
  test.each(names)("atrad %s --no-such-option", async (name) => {
    const io = captureIO();
    expect(await runCli([name, "--no-such-option"], io)).toBe(2);
    expect(io.stdout).toBe("");
    expect(io.stderr).toStartWith(`atrad ${name}: unknown option "--no-such-option"\n`);
    expect(io.stderr).toContain(`Usage: atrad ${name}`);
    for (const option of Object.keys(commands[name]!.options)) expect(io.stderr).toContain(`--${option}`);
    expect(readdirSync(io.home)).toEqual([]);
  });

  const cases: Array<[string, string[], string]> = [
    ["a string option without its value", ["status", "--url"], "--url needs a value (URL)"],
    ["a value for a boolean option", ["status", "--json=yes"], "--json takes no value"],
    ["--url that is not an address", ["status", "--url", "foo"], `--url "foo" is not an http:// address`],
    ["--url with another scheme", ["reload", "--url", "ftp://x"], `--url "ftp://x" is not an http:// address`],
    ["statusline --url", ["statusline", "--url", "localhost:8040"], `is not an http:// address`],
    ["an argument a command does not take", ["doctor", "now"], `unexpected argument "now"`],
    ["a subcommand that does not exist", ["config", "edit"], `subcommand "edit" is not one of path, print, check, init`],
    ["a tool launch cannot launch", ["launch", "vim"], `tool "vim" is not one of claude`],
    ["launch with nothing to launch", ["launch"], "missing TOOL"],
    ["a line count that is not one", ["logs", "-n", "ten"], `-n "ten" is not a line count`],
    ["a port that is not one", ["serve", "--port", "80a"], `--port "80a" is not a port number`],
    ["a port out of range", ["serve", "--port", "70000"], `--port "70000" is not a port number`],
  ];
  test.each(cases)("%s", async (_case, argv, message) => {
    const io = captureIO();
    expect(await runCli(argv, io)).toBe(2);
    expect(io.stderr).toContain(message);
    expect(io.stderr).toContain(`Usage: atrad ${argv[0]}`);
  });

  test.each([[["stauts"]], [["help", "stauts"]]])("an unknown command exits 2 with the command list: %p", async (argv) => {
    const io = captureIO();
    expect(await runCli(argv, io)).toBe(2);
    expect(io.stderr).toContain('unknown command "stauts"');
    expect(io.stderr).toContain("Usage: atrad <command>");
  });
});

describe("parsing", () => {
  test("-V, -v, --version and version print the version", async () => {
    for (const flag of ["-V", "-v", "--version", "version"]) {
      const io = captureIO();
      expect(await runCli([flag], io)).toBe(0);
      expect(io.stdout).toMatch(/^atrad \d+\.\d+\.\d+/);
    }
  });

  test("declared defaults and typed values", () => {
    const parsed = parseInput(commands.logs!, ["-f", "mlx"]);
    expect(parsed).toEqual({ help: false, input: { values: { follow: true, lines: "100", list: false }, args: ["mlx"], rest: [] } });
  });

  test("launch passes everything after the tool through, with or without --", () => {
    for (const argv of [["claude", "-p", "hi", "--help"], ["claude", "--", "-p", "hi", "--help"]]) {
      const parsed = parseInput(commands.launch!, argv);
      expect(parsed).toEqual({ help: false, input: { values: {}, args: ["claude"], rest: ["-p", "hi", "--help"] } });
    }
  });
});
