/**
 * Where the login service's pieces live, computed from the environment alone (no I/O), so
 * tests point HOME/ATRAD_HOME at temp dirs and `--platform` renders for the other OS.
 */
import { SUPERVISED_BY } from "./exit-codes.ts";
import { join, resolve } from "node:path";
import { homedir } from "node:os";
import { atradHome } from "../config/load.ts";

export type Platform = "darwin" | "linux";
/** launchd and systemd --user; "none" = containers/CI: a background process with a pidfile. */
export type Manager = "launchd" | "systemd" | "none";

export const LABEL = "com.atra.atrad";
export const UNIT = "atrad.service";

export interface Layout {
  platform: Platform;
  manager: Manager;
  uid: number;
  home: string;
  atradHome: string;
  /** Set when the user pointed ATRAD_CONFIG elsewhere: the service must see the same file. */
  configFile?: string;
  binDir: string;
  bin: string;
  /** The plist (launchd) or unit (systemd); undefined without a service manager. */
  serviceFile?: string;
  logDir: string;
  logFile: string;
  pidFile: string;
  /** http://127.0.0.1:<port> — where the installed daemon answers. */
  url: string;
}

type Env = Record<string, string | undefined>;

export function layoutFor(opts: {
  env: Env;
  platform: Platform;
  manager: Manager;
  /** `--prefix DIR`, else Homebrew's prefix when brew exists, else ~/.local. */
  prefix?: string;
  port: number;
  uid?: number;
}): Layout {
  const home = resolve(opts.env.HOME || homedir());
  const ah = resolve(atradHome(opts.env));
  const binDir = join(resolve(opts.prefix || join(home, ".local")), "bin");
  // macOS keeps user logs in ~/Library/Logs (Console.app shows them); elsewhere they sit with
  // atrad's other state. Under systemd the journal has the log too.
  const logDir = opts.platform === "darwin" ? join(home, "Library/Logs/atrad") : join(ah, "logs");
  const serviceFile =
    opts.manager === "launchd"
      ? join(home, "Library/LaunchAgents", `${LABEL}.plist`)
      : opts.manager === "systemd"
        ? join(opts.env.XDG_CONFIG_HOME ? resolve(opts.env.XDG_CONFIG_HOME) : join(home, ".config"), "systemd/user", UNIT)
        : undefined;
  return {
    platform: opts.platform,
    manager: opts.manager,
    uid: opts.uid ?? process.getuid?.() ?? 0,
    home,
    atradHome: ah,
    configFile: opts.env.ATRAD_CONFIG ? resolve(opts.env.ATRAD_CONFIG) : undefined,
    binDir,
    bin: join(binDir, "atrad"),
    serviceFile,
    logDir,
    logFile: join(logDir, "atrad.log"),
    pidFile: join(ah, "atrad.pid"),
    url: `http://127.0.0.1:${opts.port}`,
  };
}

/** PATH for the service: launchd/systemd give jobs a bare one, but providers' tools live in brew. */
export function servicePath(layout: Layout): string {
  const dirs = [layout.binDir, "/opt/homebrew/bin", "/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"];
  return [...new Set(dirs)].join(":");
}

/** The variables the daemon runs with, whatever the manager. */
export function serviceEnv(layout: Layout): Record<string, string> {
  return {
    PATH: servicePath(layout),
    ATRAD_HOME: layout.atradHome,
    ...(layout.configFile ? { ATRAD_CONFIG: layout.configFile } : {}),
    // Tells `atrad serve` how a "do not relaunch" exit must look to this manager.
    ...(layout.manager === "launchd" ? { [SUPERVISED_BY]: "launchd" } : {}),
  };
}
