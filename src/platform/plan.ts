/**
 * A service operation as data: the list of steps `atrad install|uninstall|start|stop|restart`
 * will take. Planning is pure (tests and `--dry-run` read the plan); runner.ts executes it.
 */

import type { PidSource } from "./identity.ts";

export type Step =
  | { op: "mkdir"; path: string }
  /** Skipped when `from` already is `to` (install.sh installs first, then runs the copy). */
  | { op: "copy"; from: string; to: string; mode: number }
  | { op: "write"; path: string; content: string; mode: number }
  | { op: "remove"; path: string; recursive?: boolean }
  | {
      op: "run";
      argv: string[];
      /** Run only when this probe exits 0 (e.g. "is the job loaded?"). */
      onlyIf?: string[];
      /** Run only when this probe exits non-zero. */
      unless?: string[];
      /** Extra attempts, 1 s apart (launchd may still be tearing the old job down). */
      retries?: number;
    }
  /** No service manager: `argv` detached in the background, its pid in `pidFile`. */
  | { op: "spawn"; argv: string[]; env: Record<string, string>; cwd: string; pidFile: string; logFile: string }
  /** SIGTERM the pid in `pidFile` (if alive), wait, then SIGKILL; remove the pidfile. */
  | { op: "kill"; pidFile: string }
  | {
      op: "wait-health";
      url: string;
      timeoutMs: number;
      hint: string;
      /** The daemon that answers must be this one: the manager's pid (and the version installed). */
      expect?: { pid: PidSource; version?: string; /** its log, whose last lines explain a failure */ log?: string };
    }
  | { op: "say"; text: string };

export type Plan = Step[];

/** Shell-style quoting, only where needed, so dry-run lines can be pasted into a terminal. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

export const commandLine = (argv: string[]) => argv.map(shellQuote).join(" ");

/** One line per step, as `--dry-run` prints them. Files' contents are printed separately. */
export function describeStep(step: Step): string {
  switch (step.op) {
    case "mkdir":
      return `mkdir -p ${shellQuote(step.path)}`;
    case "copy":
      return `install -m ${step.mode.toString(8)} ${shellQuote(step.from)} ${shellQuote(step.to)}`;
    case "write":
      return `write ${shellQuote(step.path)} (mode ${step.mode.toString(8)})`;
    case "remove":
      return `rm -${step.recursive ? "rf" : "f"} ${shellQuote(step.path)}`;
    case "run": {
      const cond = step.onlyIf ? `if ${commandLine(step.onlyIf)} succeeds: ` : step.unless ? `unless ${commandLine(step.unless)} succeeds: ` : "";
      return `${cond}${commandLine(step.argv)}`;
    }
    case "spawn":
      return `${commandLine(step.argv)} >>${shellQuote(step.logFile)} 2>&1 &  (pid → ${step.pidFile})`;
    case "kill":
      return `kill $(cat ${shellQuote(step.pidFile)})  (if running)`;
    case "wait-health":
      return `wait up to ${Math.round(step.timeoutMs / 1000)} s for ${step.url}/health${step.expect ? ` to answer from the pid the service manager started${step.expect.version ? ` (atrad ${step.expect.version})` : ""}` : ""}`;
    case "say":
      return `# ${step.text}`;
  }
}

/** The commands a plan would run, in order: what tests compare with the stand-ins' records. */
export function commandsOf(plan: Plan): string[][] {
  return plan.flatMap((s) => (s.op === "run" ? [s.argv] : []));
}
