/**
 * One daemon per ATRAD_HOME. Two daemons on one home (the login service plus a manual
 * `atrad serve --port …`) would both adopt and respawn the same children and overwrite each
 * other's pidfile. The lock is flock(2) on `$ATRAD_HOME/run/atrad.lock`: the kernel drops it
 * when the process dies however it dies (kill -9 included), so a stale lock cannot exist and
 * no liveness guessing is needed. The file's content names the holder for the refusal message.
 */
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, ftruncateSync } from "node:fs";
import { dirname, join } from "node:path";
import { procOf, sameProcess } from "../supervisor/proctable.ts";

export interface LockHolder {
  pid: number;
  /** The holder's start time (proctable): tells a live holder from a reused pid. */
  start: string;
  url?: string;
}

export class HomeLockedError extends Error {
  constructor(
    readonly home: string,
    readonly holder: LockHolder | undefined,
  ) {
    const who = holder ? `pid ${holder.pid}${holder.url ? ` at ${holder.url} (port ${new URL(holder.url).port})` : ""}` : "another process";
    super(
      `another atrad is already running for ATRAD_HOME=${home} (the home is in use): ${who}. ` +
        `One daemon per home: stop it first (atrad stop, or kill ${holder?.pid ?? "it"}), or give this one its own ATRAD_HOME.`,
    );
  }
}

export interface HomeLock {
  /** Record where this daemon listens, for the message a second daemon prints. */
  setUrl(url: string): void;
  /** Run a start-up step; if it throws, the lock is released before the error goes on. */
  during<T>(fn: () => T): T;
  release(): void;
}

export const lockPath = (home: string) => join(home, "run", "atrad.lock");

const LOCK_EX = 2;
const LOCK_NB = 4;

type Flock = (fd: number, op: number) => number;
let flockFn: Flock | null | undefined;

/** libc's flock through bun:ffi; null where it cannot be loaded. */
function flock(): Flock | null {
  if (flockFn !== undefined) return flockFn;
  try {
    const { dlopen, FFIType } = require("bun:ffi") as typeof import("bun:ffi");
    const lib = dlopen(process.platform === "darwin" ? "libc.dylib" : "libc.so.6", { flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
    flockFn = (fd, op) => lib.symbols.flock(fd, op) as number;
  } catch {
    flockFn = null;
  }
  return flockFn;
}

export function readLockHolder(home: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(lockPath(home), "utf8")) as LockHolder;
    return typeof h.pid === "number" ? h : undefined;
  } catch {
    return undefined;
  }
}

/** Take the home's lock or throw HomeLockedError naming the daemon that holds it. */
export function lockHome(home: string): HomeLock {
  const path = lockPath(home);
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, "a+", 0o600);
  const lockFn = flock();
  if (lockFn) {
    if (lockFn(fd, LOCK_EX | LOCK_NB) !== 0) {
      closeSync(fd);
      throw new HomeLockedError(home, readLockHolder(home));
    }
  } else {
    // No flock: the recorded holder decides, by pid and start time (a reused pid is not it).
    const h = readLockHolder(home);
    if (h && h.pid !== process.pid && sameProcess(h.pid, h.start)) {
      closeSync(fd);
      throw new HomeLockedError(home, h);
    }
  }
  const me: LockHolder = { pid: process.pid, start: procOf(process.pid)?.start ?? "" };
  const write = () => {
    ftruncateSync(fd, 0);
    writeFileSync(fd, JSON.stringify(me) + "\n");
  };
  write();
  let held = true;
  return {
    setUrl(url) {
      me.url = url;
      if (held) write();
    },
    during(fn) {
      try {
        return fn();
      } catch (err) {
        this.release();
        throw err;
      }
    },
    release() {
      if (!held) return;
      held = false;
      try {
        ftruncateSync(fd, 0);
      } catch {}
      closeSync(fd); // closing the descriptor drops the flock
    },
  };
}
