/**
 * Stand-in launchctl / systemctl / brew / claude: tiny shell scripts first on PATH that
 * append their argv to one log, so tests assert the exact command sequence atrad runs.
 * launchctl keeps a "loaded" marker so `launchctl print` answers like the real one.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CliIO } from "../../src/cli/io.ts";

export interface Sandbox {
  root: string;
  home: string;
  atradHome: string;
  bin: string;
  log: string;
  brewPrefix: string;
  env: Record<string, string>;
  /** Recorded invocations, one "tool arg arg…" string each. */
  calls(): string[];
  clearCalls(): void;
}

function script(path: string, body: string) {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
}

export function sandbox(tools: Array<"launchctl" | "systemctl" | "brew"> = []): Sandbox {
  const root = mkdtempSync(join(tmpdir(), "atrad-platform-"));
  const home = join(root, "home");
  const bin = join(root, "stand-ins");
  const brewPrefix = join(root, "brew");
  const log = join(root, "calls.log");
  for (const d of [home, bin, brewPrefix]) mkdirSync(d, { recursive: true });
  const record = `echo "$(basename "$0") $*" >> '${log}'`;
  if (tools.includes("launchctl"))
    script(
      join(bin, "launchctl"),
      `${record}
state='${root}/launchd-loaded'
case "$1" in
  print) [ -f "$state" ] || { echo "Could not find service" >&2; exit 113; } ;;
  bootstrap) touch "$state" ;;
  bootout) [ -f "$state" ] || exit 3; rm -f "$state" ;;
esac
exit 0`,
    );
  if (tools.includes("systemctl")) script(join(bin, "systemctl"), `${record}\nexit 0`);
  if (tools.includes("brew"))
    script(
      join(bin, "brew"),
      `${record}
case "$1" in
  --prefix) echo '${brewPrefix}' ;;
  list) echo "ollama 0.33.0" ;;
esac
exit 0`,
    );
  const atradHome = join(home, ".atrad");
  return {
    root,
    home,
    atradHome,
    bin,
    log,
    brewPrefix,
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: home, ATRAD_HOME: atradHome, USER: "tester" },
    calls: () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").filter(Boolean) : []),
    clearCalls: () => writeFileSync(log, ""),
  };
}

/** A stand-in `claude` that writes its environment and arguments next to it. */
export function fakeClaude(dir: string, version = "2.1.330 (Claude Code)"): { envFile: string; argsFile: string; cwdFile: string } {
  const envFile = join(dir, "claude.env");
  const argsFile = join(dir, "claude.args");
  const cwdFile = join(dir, "claude.cwd");
  script(
    join(dir, "claude"),
    `if [ "$1" = "--version" ]; then echo '${version}'; exit 0; fi
env > '${envFile}'
for a in "$@"; do printf '%s\\n' "$a"; done > '${argsFile}'
pwd > '${cwdFile}'
exit 7`,
  );
  return { envFile, argsFile, cwdFile };
}

/** An "atrad" executable that runs this checkout's source (what a compiled build would do). */
export function fakeAtradBinary(dir: string): string {
  const path = join(dir, "atrad-under-test");
  script(path, `exec '${process.execPath}' '${join(import.meta.dir, "../../src/main.ts")}' "$@"`);
  return path;
}

export function captureIO(env: Record<string, string>): CliIO & { stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  return { out: (t) => void (out += t), err: (t) => void (err += t), env, isTTY: false, stdout: () => out, stderr: () => err };
}

/** A loopback port nobody listens on (bound, then released). */
export function deadPort(): number {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
  const port = s.port!;
  s.stop(true);
  return port;
}
