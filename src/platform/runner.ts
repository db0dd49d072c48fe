/**
 * Executes a Plan. The only place service operations touch the system; commands run with
 * the CLI's env (so stand-in launchctl/systemctl/brew first on PATH are what runs in tests).
 */
import { spawn } from "node:child_process";
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { probeHealth, waitForHealth } from "./health.ts";
import { commandLine, type Plan, type Step } from "./plan.ts";
import { isAlive, readPid } from "./pidfile.ts";
import { managedProcess } from "./identity.ts";


type Env = Record<string, string | undefined>;

export class PlanError extends Error {
  override name = "PlanError";
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a command to completion; a missing executable is exit 127, as in a shell. */
export async function runCommand(argv: string[], env: Env, timeoutMs = 30_000): Promise<RunResult> {
  const exe = Bun.which(argv[0]!, { PATH: env.PATH ?? "" });
  if (!exe) return { code: 127, stdout: "", stderr: `${argv[0]}: command not found` };
  const proc = Bun.spawn([exe, ...argv.slice(1)], { env: env as Record<string, string>, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: timeoutMs });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

export interface RunnerOptions {
  env: Env;
  /** Progress lines ("$ launchctl bootstrap …"). */
  log: (line: string) => void;
}

export async function runPlan(plan: Plan, opts: RunnerOptions): Promise<void> {
  for (const step of plan) await runStep(step, opts);
}

async function runStep(step: Step, { env, log }: RunnerOptions): Promise<void> {
  switch (step.op) {
    case "mkdir":
      mkdirSync(step.path, { recursive: true });
      return;
    case "copy": {
      if (existsSync(step.to) && realpathSync(step.from) === realpathSync(step.to)) return;
      // Copy beside, then rename: overwriting a running executable in place fails (ETXTBSY)
      // or corrupts it; a rename swaps it atomically and the old process keeps its inode.
      const tmp = `${step.to}.tmp-${process.pid}`;
      copyFileSync(step.from, tmp);
      chmodSync(tmp, step.mode);
      renameSync(tmp, step.to);
      log(`installed ${step.to}`);
      return;
    }
    case "write":
      mkdirSync(dirname(step.path), { recursive: true });
      writeFileSync(step.path, step.content);
      chmodSync(step.path, step.mode); // writeFileSync's mode only applies to new files
      log(`wrote ${step.path}`);
      return;
    case "remove":
      if (existsSync(step.path)) {
        rmSync(step.path, { recursive: step.recursive ?? false, force: true });
        log(`removed ${step.path}`);
      }
      return;
    case "run": {
      if (step.onlyIf && (await runCommand(step.onlyIf, env)).code !== 0) return;
      if (step.unless && (await runCommand(step.unless, env)).code === 0) return;
      log(`$ ${commandLine(step.argv)}`);
      let result = await runCommand(step.argv, env);
      for (let i = 0; result.code !== 0 && i < (step.retries ?? 0); i++) {
        await Bun.sleep(1000);
        result = await runCommand(step.argv, env);
      }
      if (result.code !== 0)
        throw new PlanError(`\`${commandLine(step.argv)}\` failed (exit ${result.code}): ${(result.stderr || result.stdout).trim().split("\n").slice(-3).join(" / ")}`);
      return;
    }
    case "spawn": {
      const running = readPid(step.pidFile);
      if (running && isAlive(running)) {
        log(`already running in the background (pid ${running})`);
        return;
      }
      mkdirSync(dirname(step.pidFile), { recursive: true });
      mkdirSync(dirname(step.logFile), { recursive: true });
      const fd = openSync(step.logFile, "a");
      try {
        // Detached: its own session, so closing the terminal or atrad exiting leaves it running.
        const child = spawn(step.argv[0]!, step.argv.slice(1), {
          detached: true,
          cwd: step.cwd,
          env: { ...env, ...step.env, PATH: env.PATH ?? step.env.PATH },
          stdio: ["ignore", fd, fd],
        });
        if (!child.pid) throw new PlanError(`could not start ${commandLine(step.argv)}`);
        child.unref();
        writeFileSync(step.pidFile, `${child.pid}\n`);
        log(`$ ${commandLine(step.argv)} &  (pid ${child.pid}, log ${step.logFile})`);
      } finally {
        closeSync(fd);
      }
      return;
    }
    case "kill": {
      const pid = readPid(step.pidFile);
      if (pid && isAlive(pid)) {
        process.kill(pid, "SIGTERM");
        const deadline = Date.now() + 15_000;
        // isAlive is one kill(pid, 0): checking often lets `atrad stop` return as the daemon exits.
        while (isAlive(pid) && Date.now() < deadline) await Bun.sleep(20);
        if (isAlive(pid)) process.kill(pid, "SIGKILL");
        log(`stopped pid ${pid}`);
      }
      rmSync(step.pidFile, { force: true });
      return;
    }
    case "wait-health": {
      if (step.expect) return verifyOurs(step as WaitStep & { expect: NonNullable<WaitStep["expect"]> }, env);
      const answer = await waitForHealth(step.url, step.timeoutMs);
      if (answer.state !== "atrad")
        throw new PlanError(`atrad did not answer at ${step.url}/health within ${Math.round(step.timeoutMs / 1000)} s (${answer.detail}); ${step.hint}`);
      return;
    }
    case "say":
      log(step.text);
      return;
  }
}

type WaitStep = Extract<Step, { op: "wait-health" }>;

/**
 * Wait until the daemon the service manager started answers — that pid, that version. Fails at
 * once when that process is gone (a config error, a port clash, another atrad on the home),
 * and at the deadline when something else keeps answering instead.
 */
async function verifyOurs(step: WaitStep & { expect: NonNullable<WaitStep["expect"]> }, env: Env): Promise<void> {
  const deadline = Date.now() + step.timeoutMs;
  let last = "nothing answered";
  for (;;) {
    const ours = await managedProcess(step.expect.pid, env, runCommand);
    const answer = await probeHealth(step.url, 1000);
    const other = answer.state === "atrad" ? `atrad ${answer.version}${answer.pid ? ` (pid ${answer.pid})` : ""} answers at ${step.url} instead` : "";
    if (ours.ended || (ours.pid !== undefined && !isAlive(ours.pid))) {
      const how = ours.ended ?? `pid ${ours.pid} exited`;
      const said = step.expect.log ? lastLines(step.expect.log, 3) : "";
      throw new PlanError(`the atrad just started is not running (${how})${said ? `; its log ends: ${said}` : ""}${other ? `; ${other}` : ""}; ${step.hint}`);
    }
    if (answer.state === "atrad") {
      const pidOk = ours.pid === undefined || answer.pid === undefined || answer.pid === ours.pid;
      const versionOk = !step.expect.version || answer.version === step.expect.version;
      if (pidOk && versionOk) return;
      last = other;
    } else last = answer.detail;
    if (Date.now() > deadline)
      throw new PlanError(`atrad${ours.pid ? ` (pid ${ours.pid})` : ""} did not answer at ${step.url} within ${Math.round(step.timeoutMs / 1000)} s (${last}); ${step.hint}`);
    // A pidfile is one read: look again soon. launchd and systemd are asked through a process each time.
    await Bun.sleep(step.expect.pid.from === "pidfile" ? 50 : 200);
  }
}

/** The last lines of a log, on one line (the daemon says why it stopped there). */
function lastLines(path: string, n: number): string {
  try {
    const text = readFileSync(path, "utf8").slice(-8192);
    return text.trim().split("\n").slice(-n).map((l) => l.trim()).filter(Boolean).join(" / ");
  } catch {
    return "";
  }
}
