/**
 * Exit codes of `atrad serve` that a restart cannot fix. The service definitions name them so
 * launchd/systemd do not relaunch a daemon into the same failure every few seconds.
 */
/** EX_CONFIG: the config file is invalid (or unsafe, e.g. a public bind without tokens). */
export const EXIT_CONFIG = 78;
/** EADDRINUSE: the port is taken, or another atrad already runs for this ATRAD_HOME. */
export const EXIT_IN_USE = 98;
/** Exit codes after which the service manager must not relaunch atrad. */
export const NO_RESTART_EXITS = [EXIT_CONFIG, EXIT_IN_USE] as const;

/** Set in the launchd job's environment: how a "do not relaunch" exit must look there. */
export const SUPERVISED_BY = "ATRAD_SUPERVISED_BY";

/**
 * The exit status `atrad serve` returns to its service manager. launchd's KeepAlive can only
 * tell a successful exit (not relaunched) from a failing one (relaunched), so under launchd an
 * exit that a relaunch cannot fix is reported as 0; systemd names the codes instead
 * (RestartPreventExitStatus), and a person at a terminal sees the real code.
 */
export function serviceExit(code: number, env: Record<string, string | undefined>): number {
  return env[SUPERVISED_BY] === "launchd" && (NO_RESTART_EXITS as readonly number[]).includes(code) ? 0 : code;
}
