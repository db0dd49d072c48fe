/**
 * An external service's `restart` command (e.g. `brew services restart ollama`), run once:
 * its own process group (so a hang is killed whole), output captured for status and appended
 * to the service log, killed after `limitMs`. The caller keeps attempts from overlapping.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync } from "node:fs";

export interface CommandRun {
  state: "running" | "succeeded" | "failed";
  at: string;
  exit_code: number | null;
  output_tail: string[];
}

export interface CommandEnd {
  /** null: it never ran, or was killed. */
  code: number | null;
  /** "exited 3", "hung for 60 s and was killed", "could not run: …". */
  why: string;
  run: CommandRun;
}

export interface RunningCommand {
  readonly run: CommandRun;
  kill(): void;
}

export function runCommandOnce(
  spec: { command: string[]; cwd?: string; env?: Record<string, string>; logPath: string; limitMs: number },
  done: (end: CommandEnd) => void,
): RunningCommand {
  const at = new Date().toISOString();
  const run: CommandRun = { state: "running", at, exit_code: null, output_tail: [] };
  let out = "";
  let child: ChildProcess | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let hung = false;
  let error: string | undefined;
  const kill = () => {
    if (!child?.pid) return;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      child.kill("SIGKILL");
    }
  };
  const finish = (code: number | null, why: string) => {
    clearTimeout(timer);
    const tail = out.split("\n").map((l) => l.trim()).filter(Boolean).slice(-5);
    Object.assign(run, { state: code === 0 ? "succeeded" : "failed", exit_code: code, output_tail: tail });
    try {
      appendFileSync(spec.logPath, `--- ${at} restart command: ${spec.command.join(" ")}\n${out}${!out || out.endsWith("\n") ? "" : "\n"}--- ${why}\n`);
    } catch {
      // the log is a convenience; status carries the tail anyway
    }
    done({ code, why: code !== 0 && tail.length ? `${why}: ${tail.slice(-2).join(" / ")}` : why, run });
  };
  try {
    child = spawn(spec.command[0]!, spec.command.slice(1), {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
  } catch (err) {
    queueMicrotask(() => finish(null, `could not run: ${(err as Error).message}`));
    return { run, kill };
  }
  const take = (b: Buffer) => (out = (out + b.toString("utf8")).slice(-16_384));
  child.stdout?.on("data", take);
  child.stderr?.on("data", take);
  child.once("error", (err) => (error = err.message));
  timer = setTimeout(() => {
    hung = true;
    kill();
  }, spec.limitMs);
  child.once("close", (code, signal) => {
    if (hung) finish(null, `hung for ${+(spec.limitMs / 1000).toFixed(1)} s and was killed`);
    else if (error) finish(null, `could not run: ${error}`);
    else finish(code, signal ? `was killed by ${signal}` : `exited ${code}`);
  });
  return { run, kill };
}
