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
