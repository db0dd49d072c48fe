/**
 * Facts about the machine the service commands need: which OS to render for, which service
 * manager actually works here, Homebrew's prefix, and how to run this very atrad again.
 */
import { runCommand } from "./runner.ts";
import type { Manager, Platform } from "./layout.ts";

type Env = Record<string, string | undefined>;

export function parsePlatform(value: string | undefined): Platform {
  const p = value ?? process.platform;
  if (p === "darwin" || p === "linux") return p;
  throw new Error(`--platform must be darwin or linux (got "${p}")`);
}

/**
 * `ATRAD_SERVICE_MANAGER` forces a choice; a dry run for a named platform assumes that
 * platform's manager; otherwise probe: launchctl on macOS, and on Linux a systemd --user
 * manager that really answers (containers often ship systemctl without a running systemd).
 */
export async function detectManager(env: Env, platform: Platform, dryRunFor?: Platform): Promise<Manager> {
  const forced = env.ATRAD_SERVICE_MANAGER;
  if (forced === "launchd" || forced === "systemd" || forced === "none") return forced;
  if (forced) throw new Error(`ATRAD_SERVICE_MANAGER must be launchd, systemd or none (got "${forced}")`);
  if (dryRunFor) return dryRunFor === "darwin" ? "launchd" : "systemd";
  if (platform === "darwin") return Bun.which("launchctl", { PATH: env.PATH ?? "" }) ? "launchd" : "none";
  if (!Bun.which("systemctl", { PATH: env.PATH ?? "" })) return "none";
  return (await runCommand(["systemctl", "--user", "show-environment"], env, 5000)).code === 0 ? "systemd" : "none";
}

export async function brewPrefix(env: Env): Promise<string | undefined> {
  if (!Bun.which("brew", { PATH: env.PATH ?? "" })) return undefined;
  const r = await runCommand(["brew", "--prefix"], env, 15_000);
  return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

/** Ollama installed as a brew formula (then `brew services` is how it runs at login). */
export async function brewHasOllama(env: Env): Promise<boolean> {
  if (!Bun.which("brew", { PATH: env.PATH ?? "" })) return false;
  const r = await runCommand(["brew", "list", "--versions", "ollama"], env, 15_000);
  return r.code === 0 && r.stdout.trim() !== "";
}

/** A compiled atrad runs from Bun's embedded filesystem; from source, Bun runs src/main.ts. */
export const isCompiled = () => Bun.main.startsWith("/$bunfs/") || Bun.main.includes("~BUN");

/** argv that runs this same atrad: the executable itself, or `bun src/main.ts` from a checkout. */
export function selfCommand(): string[] {
  return isCompiled() ? [process.execPath] : [process.execPath, Bun.main];
}
