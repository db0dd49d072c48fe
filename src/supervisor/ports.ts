/**
 * Who holds a TCP port: pid and command line of the listener. Needed because "something
 * answers on 11435" is not "the MLX server is up" — Ollama ≥ 0.33's desktop gateway listens
 * there too. `lsof` exists on macOS and most Linux boxes; Linux falls back to
 * `ss -ltnp`, then to /proc (which sees only our own user's sockets' pids without root).
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface PortHolder {
  pid: number;
  command: string;
}

export async function portHolder(port: number): Promise<PortHolder | undefined> {
  const pid = (await viaLsof(port)) ?? (process.platform === "linux" ? ((await viaSs(port)) ?? viaProc(port)) : undefined);
  if (!pid) return undefined;
  return { pid, command: (await commandOf(pid)) ?? "(unknown command)" };
}

/** The full command line of a pid, or undefined when it is gone. */
export async function commandOf(pid: number): Promise<string | undefined> {
  if (process.platform === "linux") {
    try {
      const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      const line = raw.split("\0").filter(Boolean).join(" ");
      if (line) return line;
    } catch {
      return undefined;
    }
  }
  const out = await run(["ps", "-o", "args=", "-p", String(pid)]);
  return out?.trim() || undefined;
}

async function run(argv: string[]): Promise<string | undefined> {
  try {
    const p = Bun.spawn(argv, { stdout: "pipe", stderr: "ignore", stdin: "ignore" });
    const timer = setTimeout(() => p.kill(), 2000);
    const text = await new Response(p.stdout).text();
    await p.exited;
    clearTimeout(timer);
    return text;
  } catch {
    return undefined; // the tool isn't installed
  }
}

async function viaLsof(port: number): Promise<number | undefined> {
  const out = await run(["lsof", "-nP", `-iTCP:${port}`, "-sTCP:LISTEN", "-Fp"]);
  const m = out ? /^p(\d+)$/m.exec(out) : null;
  return m ? Number(m[1]) : undefined;
}

async function viaSs(port: number): Promise<number | undefined> {
  const out = await run(["ss", "-Hltnp", `sport = :${port}`]);
  const m = out ? /pid=(\d+)/.exec(out) : null;
  return m ? Number(m[1]) : undefined;
}

/** Sockets on a local port from Linux's /proc/net/tcp{,6}: state (hex, 0A = LISTEN, 01 = ESTABLISHED) and inode. */
export function procSockets(port: number): Array<{ state: string; inode: string }> {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  const out: Array<{ state: string; inode: string }> = [];
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(f, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex.
      if (cols[1]?.endsWith(`:${hex}`) && cols[3]) out.push({ state: cols[3], inode: cols[9] ?? "" });
    }
  }
  return out;
}

/** Listening socket inode from /proc/net/tcp{,6}, then the pid whose fd points at it. */
function viaProc(port: number): number | undefined {
  const inodes = new Set(procSockets(port).filter((s) => s.state === "0A" && s.inode).map((s) => s.inode));
  if (!inodes.size) return undefined;
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${d}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${d}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return Number(d);
      } catch {
        // raced with the fd closing
      }
    }
  }
  return undefined;
}

