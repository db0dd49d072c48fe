/**
 * One entry point for every service operation on every manager. With no service manager
 * (containers, CI) atrad runs `atrad serve` detached with a pidfile, so the same commands
 * still work — it just won't come back after a reboot on its own.
 */
import { launchdInstall, launchdRestart, launchdStart, launchdStop, launchdUninstall } from "./launchd.ts";
import { serviceEnv, type Layout } from "./layout.ts";
import type { Plan } from "./plan.ts";
import { systemdInstall, systemdRestart, systemdStart, systemdStop, systemdUninstall } from "./systemd.ts";

export type Operation = "install" | "uninstall" | "start" | "stop" | "restart";

function background(l: Layout, bin: string[]): Plan {
  return [
    { op: "mkdir", path: l.logDir },
    { op: "spawn", argv: [...bin, "serve"], env: serviceEnv(l), cwd: l.atradHome, pidFile: l.pidFile, logFile: l.logFile },
    { op: "wait-health", url: l.url, timeoutMs: 20_000, expect: { pid: { from: "pidfile", path: l.pidFile }, log: l.logFile }, hint: `see ${l.logFile}` },
  ];
}

export interface PlanOptions {
  /** The executable to copy into place on install (undefined: it is already there). */
  binary?: string;
  /** What the background mode runs when the installed binary is absent (start/restart). */
  self?: string[];
  /** uninstall --purge: also config, state and logs. */
  purge?: boolean;
}

export function planFor(op: Operation, l: Layout, opts: PlanOptions = {}): Plan {
  const plan = basePlan(op, l, opts);
  if (op === "uninstall" && opts.purge) {
    plan.push({ op: "remove", path: l.atradHome, recursive: true }, { op: "remove", path: l.logDir, recursive: true });
    if (l.configFile) plan.push({ op: "remove", path: l.configFile });
  }
  return plan;
}

/** Each service manager's plan per operation. */
const MANAGED: Record<"launchd" | "systemd", Record<Operation, (l: Layout, binary?: string) => Plan>> = {
  launchd: { install: launchdInstall, uninstall: launchdUninstall, start: launchdStart, stop: launchdStop, restart: launchdRestart },
  systemd: { install: systemdInstall, uninstall: systemdUninstall, start: systemdStart, stop: systemdStop, restart: systemdRestart },
};

function basePlan(op: Operation, l: Layout, opts: PlanOptions): Plan {
  if (l.manager === "launchd" || l.manager === "systemd") return MANAGED[l.manager][op](l, opts.binary);
  const bin = opts.self ?? [l.bin];
  switch (op) {
    case "install":
      return [
        { op: "mkdir", path: l.binDir },
        ...(opts.binary ? [{ op: "copy" as const, from: opts.binary, to: l.bin, mode: 0o755 }] : []),
        { op: "mkdir", path: l.atradHome },
        // An upgrade must not leave the old binary serving.
        { op: "kill", pidFile: l.pidFile },
        ...background(l, [l.bin]),
      ];
    case "uninstall":
      return [{ op: "kill", pidFile: l.pidFile }, { op: "remove", path: l.bin }];
    case "start":
      return [{ op: "mkdir", path: l.atradHome }, ...background(l, bin)];
    case "stop":
      return [{ op: "kill", pidFile: l.pidFile }];
    case "restart":
      return [{ op: "kill", pidFile: l.pidFile }, ...background(l, bin)];
  }
}
