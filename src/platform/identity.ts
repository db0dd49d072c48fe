/**
 * Which process the service manager started for atrad, and how it ended if it is gone. An
 * install is verified against this, not against whatever answers on the port: another atrad
 * there (a manual `atrad serve`) would otherwise be reported as the daemon just installed.
 */
import { readPid } from "./pidfile.ts";

type Env = Record<string, string | undefined>;

/** Where to ask: the background pidfile, launchd's job, or systemd's unit. */
export type PidSource = { from: "pidfile"; path: string } | { from: "launchd"; target: string } | { from: "systemd"; unit: string };

export interface ManagedProcess {
  /** The pid the manager reports running (undefined: none, or the manager did not say). */
  pid?: number;
  /** The manager says the job is not running; how it last ended, when it says. */
  ended?: string;
}

type Run = (argv: string[], env: Env, timeoutMs?: number) => Promise<{ code: number; stdout: string; stderr: string }>;

export async function managedProcess(src: PidSource, env: Env, run: Run): Promise<ManagedProcess> {
  switch (src.from) {
    case "pidfile": {
      const pid = readPid(src.path);
      return pid ? { pid } : {};
    }
    case "launchd": {
      const r = await run(["launchctl", "print", src.target], env, 5000);
      return parseLaunchctlPrint(r.stdout);
    }
    case "systemd": {
      const r = await run(["systemctl", "--user", "show", src.unit, "--property=MainPID,ActiveState,ExecMainStatus,Result"], env, 5000);
      return parseSystemctlShow(r.stdout);
    }
    default:
      return src satisfies never;
  }
}

/** `launchctl print gui/UID/LABEL`: "pid = 123" while running; "last exit code = 98" once ended. */
export function parseLaunchctlPrint(text: string): ManagedProcess {
  const pid = /^\s*pid = (\d+)\s*$/m.exec(text)?.[1];
  if (pid) return { pid: Number(pid) };
  const state = /^\s*state = (.+)$/m.exec(text)?.[1]?.trim();
  const exit = /^\s*last exit code = (.+)$/m.exec(text)?.[1]?.trim();
  // Only a job that ran and ended counts: right after bootstrap it may still be "spawn scheduled".
  if (state === "not running" && exit && !exit.startsWith("(never")) return { ended: `launchd job not running, last exit code ${exit}` };
  return {};
}

/** `systemctl --user show … --property=…`: MainPID=0 once the main process is gone. */
export function parseSystemctlShow(text: string): ManagedProcess {
  const props = Object.fromEntries(
    text
      .split("\n")
      .map((l) => l.split("="))
      .filter((kv) => kv.length >= 2)
      .map(([k, ...v]) => [k!.trim(), v.join("=").trim()]),
  );
  const pid = Number(props.MainPID);
  if (pid > 0) return { pid };
  // "activating" covers a restart pending after an exit; "failed" is one systemd gave up on.
  if (props.ActiveState === "failed" || props.ActiveState === "inactive")
    return { ended: `unit ${props.ActiveState}${props.ExecMainStatus ? `, exit status ${props.ExecMainStatus}` : ""}${props.Result && props.Result !== "success" ? ` (${props.Result})` : ""}` };
  return {};
}
