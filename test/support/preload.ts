/**
 * Loaded before every test file (bunfig.toml [test] preload).
 *
 * 1. A clone without `bun install` gets one line saying so, not one "Could not resolve" per file.
 * 2. HOME and the XDG folders point at fresh temp dirs, and the developer's own ATRAD_* settings
 *    are dropped, so nothing a test runs (the daemon, the CLI, Chromium, Claude Code) can read or
 *    write the real home. Whatever still lands in that temp HOME fails the run: code that writes
 *    to ~ when it should use a temp dir shows up here, not on someone's machine.
 * Only node: modules here: this must run before dependencies are known to be installed.
 */
import { afterAll } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const missing = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((d) => !existsSync(join(ROOT, "node_modules", d, "package.json")));
if (missing.length) {
  const some = missing.slice(0, 3).join(", ") + (missing.length > 3 ? `, … (${missing.length} in all)` : "");
  console.error(`atrad tests: dependencies are not installed (${some}): run \`bun install\` in ${ROOT} (./scripts/install.sh does it too)`);
  process.exit(1);
}

const home = mkdtempSync(join(tmpdir(), "atrad-test-home-"));
const xdg = mkdtempSync(join(tmpdir(), "atrad-test-xdg-"));
process.env.HOME = home;
for (const [name, dir] of [["XDG_CONFIG_HOME", "config"], ["XDG_CACHE_HOME", "cache"], ["XDG_DATA_HOME", "data"], ["XDG_STATE_HOME", "state"]] as const) {
  mkdirSync(join(xdg, dir));
  process.env[name] = join(xdg, dir);
}
// Bun keeps its transpiler cache and the runtimes `bun build --compile --target` fetches under
// ~/.bun: the Bun processes tests start share caches in tmp instead, kept from run to run.
process.env.BUN_RUNTIME_TRANSPILER_CACHE_PATH ??= join(tmpdir(), "atrad-test-bun-transpiler-cache");
process.env.BUN_INSTALL_CACHE_DIR ??= join(tmpdir(), "atrad-test-bun-install-cache");
// Bun.spawn without `env` hands a child the environment Bun started with, not process.env as
// changed here; give it process.env (what node:child_process does), so children see the temp HOME.
const { spawn, spawnSync } = Bun;
const withEnv = <T extends { env?: Record<string, string | undefined> }>(o: T | undefined): T => ({ ...o, env: o?.env ?? process.env }) as T;
Bun.spawn = ((a: any, b?: any) => (Array.isArray(a) ? spawn(a, withEnv(b)) : spawn(withEnv(a)))) as typeof spawn;
Bun.spawnSync = ((a: any, b?: any) => (Array.isArray(a) ? spawnSync(a, withEnv(b)) : spawnSync(withEnv(a)))) as typeof spawnSync;
for (const name of ["ATRAD_HOME", "ATRAD_CONFIG", "ATRAD_PORT", "ATRAD_HOST", "ATRAD_LOG_LEVEL", "ATRAD_SERVICE_MANAGER"]) delete process.env[name];

/** What a test left in the temp HOME (which should have stayed empty). */
export function leftInHome(): string[] {
  return readdirSync(home);
}

afterAll(() => {
  const left = leftInHome();
  if (left.length)
    throw new Error(`a test wrote into HOME (${home}): ${left.join(", ")}. Tests must write only into their own temp dirs (mkdtemp), and give child processes a temp HOME/ATRAD_HOME.`);
  // Clean, so gone: a run must not leave two more folders in tmp for every test file.
  rmSync(home, { recursive: true, force: true });
  rmSync(xdg, { recursive: true, force: true });
});
