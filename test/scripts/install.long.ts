/**
 * A long test (./scripts/test.sh --long, which CI runs): it clones the repository and builds
 * four executables, ~10 s of CPU that every `bun test` would pay for a script rarely changed.
 *
 * scripts/install.sh from a clean clone into a scratch prefix (and uninstall.sh back out), and
 * the release build: three executables whose Mach-O/ELF headers name the right CPU, plus sums.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { freePort } from "../support/binary.ts";

const root = resolve(import.meta.dir, "../..");

function sh(argv: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const r = Bun.spawnSync(argv, { cwd: opts.cwd ?? root, env: opts.env ?? (process.env as Record<string, string>), stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

/** The executable's format and CPU from its first bytes (Mach-O 64 / ELF64 headers). */
export function executableKind(bytes: Uint8Array): string {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) === 0xfeedfacf) {
    // mach_header_64: magic, cputype (CPU_ARCH_ABI64 | CPU_TYPE_x), cpusubtype, filetype (2 = MH_EXECUTE)
    const cpu = v.getUint32(4, true);
    const arch = cpu === 0x0100000c ? "arm64" : cpu === 0x01000007 ? "x86_64" : `cpu 0x${cpu.toString(16)}`;
    return `mach-o ${arch} filetype ${v.getUint32(12, true)}`;
  }
  if (v.getUint32(0, false) === 0x7f454c46) {
    // e_ident[EI_CLASS] 2 = 64-bit, [EI_DATA] 1 = little-endian; e_type at 16, e_machine at 18.
    const machine = v.getUint16(18, true);
    const arch = machine === 0x3e ? "x86_64" : machine === 0xb7 ? "aarch64" : `machine 0x${machine.toString(16)}`;
    return `elf${bytes[4] === 2 ? 64 : 32} ${bytes[5] === 1 ? "le" : "be"} ${arch} type ${v.getUint16(16, true)}`;
  }
  return "unknown";
}

describe("release build", () => {
  test("bun scripts/build.ts --release: three binaries with the right headers, and SHA256SUMS", () => {
    const out = mkdtempSync(join(tmpdir(), "atrad-release-"));
    const r = sh([process.execPath, "scripts/build.ts", "--release", "--outdir", out]);
    expect(r.code).toBe(0);
    const head = (name: string) => executableKind(readFileSync(join(out, name)).subarray(0, 64));
    expect(head("atrad-darwin-arm64")).toBe("mach-o arm64 filetype 2");
    expect(head("atrad-darwin-x64")).toBe("mach-o x86_64 filetype 2");
    // ET_EXEC (2) or ET_DYN (3, position-independent): both are runnable executables.
    expect(head("atrad-linux-x64")).toMatch(/^elf64 le x86_64 type [23]$/);
    const sums = readFileSync(join(out, "SHA256SUMS"), "utf8").trim().split("\n");
    expect(sums.map((l) => l.split("  ")[1])).toEqual(["atrad-darwin-arm64", "atrad-darwin-x64", "atrad-linux-x64"]);
    for (const line of sums) {
      const [sum, name] = line.split("  ");
      expect(createHash("sha256").update(readFileSync(join(out, name!))).digest("hex")).toBe(sum!);
    }
    // The host one runs (this machine is linux-x64).
    if (process.platform === "linux" && process.arch === "x64") expect(sh([join(out, "atrad-linux-x64"), "--version"]).out).toContain("atrad ");
  }, 60_000);
});

describe("scripts/install.sh", () => {
  let tmp: string, clone: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), "atrad-install-"));
    clone = join(tmp, "clone");
    const head = sh(["git", "rev-parse", "HEAD"]).out.trim();
    expect(sh(["git", "clone", "--quiet", "--no-local", root, clone]).code).toBe(0);
    expect(sh(["git", "checkout", "--quiet", head], { cwd: clone }).code).toBe(0);
  });
  /**
   * A scratch HOME, so nothing real is touched; Bun is on PATH here, so install.sh uses it.
   * `asUser`: none of the test run's cache and XDG settings either, so the caches land in that
   * HOME as on a user's machine.
   */
  const envFor = (home: string, asUser = false) => {
    const env: Record<string, string | undefined> = { ...process.env, HOME: home, ATRAD_HOME: join(home, ".atrad"), ATRAD_SERVICE_MANAGER: "none", PATH: `${dirname(process.execPath)}:/usr/bin:/bin` };
    if (asUser) for (const k of Object.keys(env)) if (k.startsWith("XDG_") || k.startsWith("BUN_")) delete env[k];
    return env as Record<string, string>;
  };

  test("--prefix <tmp> --no-service from a clean clone installs a working atrad; uninstall.sh removes it", () => {
    const prefix = join(tmp, "prefix");
    const env = envFor(join(tmp, "home"));
    const r = sh(["bash", "scripts/install.sh", "--prefix", prefix, "--no-service"], { cwd: clone, env });
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const lines = r.out.trim().split("\n");
    // One clear line per step, and last the one line to paste, since the prefix is not on PATH.
    expect(lines.at(-1)).toBe(`export PATH="${prefix}/bin:$PATH"`);
    for (const line of lines.slice(0, -1)) expect(line).toMatch(/^==> /);
    expect(r.out).toContain(`installed ${prefix}/bin/atrad (atrad `);
    expect(r.out).toContain("skipped the login service (--no-service)");
    const version = sh([join(prefix, "bin/atrad"), "--version"], { env });
    expect(version.out).toMatch(/^atrad \d+\.\d+\.\d+ \(bun /);
    // The pasted line works: in a shell that evaluates it, `atrad` is found by name.
    expect(sh(["bash", "-c", `${lines.at(-1)}; atrad --version`], { env }).out).toBe(version.out);

    // Idempotent: a second run succeeds and leaves one working atrad.
    expect(sh(["bash", "scripts/install.sh", "--prefix", prefix, "--no-service"], { cwd: clone, env }).code).toBe(0);
    expect(sh([join(prefix, "bin/atrad"), "--version"], { env }).code).toBe(0);

    const un = sh(["bash", "scripts/uninstall.sh", "--prefix", prefix], { cwd: clone, env });
    expect(un.code).toBe(0);
    expect(existsSync(join(prefix, "bin/atrad"))).toBe(false);
    expect(existsSync(join(prefix, "libexec/atrad"))).toBe(false);
    // The folders install.sh created are gone with it, being empty.
    expect(existsSync(prefix)).toBe(false);
    expect(sh(["bash", "scripts/uninstall.sh", "--prefix", prefix], { cwd: clone, env }).code).toBe(0);
  }, 120_000);

  test("uninstall.sh, then uninstall.sh --purge without the binary: nothing of atrad is left in HOME, and the caches are named", async () => {
    const home = join(tmp, "purge-home");
    const env = envFor(home, true);
    // The default prefix (~/.local) and the login service (background mode here), on a port of its own.
    const port = freePort();
    mkdirSync(join(home, ".atrad"), { recursive: true });
    writeFileSync(join(home, ".atrad/config.toml"), `[server]\nport = ${port}\n`);
    const r = sh(["bash", "scripts/install.sh"], { cwd: clone, env });
    expect(r.code).toBe(0);
    expect(r.out).toContain(`is up at http://127.0.0.1:${port}`);
    expect(r.out).toContain('export PATH="$HOME/.local/bin:$PATH"');

    const plain = sh(["bash", "scripts/uninstall.sh"], { cwd: clone, env });
    expect(plain.code).toBe(0);
    expect(existsSync(join(home, ".atrad/config.toml"))).toBe(true); // kept without --purge
    expect(existsSync(join(home, ".local"))).toBe(false);

    const purge = sh(["bash", "scripts/uninstall.sh", "--purge"], { cwd: clone, env });
    expect(purge.code).toBe(0);
    expect(purge.out).toContain(`removed ${join(home, ".atrad")}`);
    // What is left is exactly the caches it names, each with the command that removes it.
    const named = [...purge.out.matchAll(/^ {2}(\S+) \(.*\): (rm -rf .*)$/gm)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(0);
    expect(readdirSync(home).map((e) => join(home, e)).sort()).toEqual(named.sort());
    // And the daemon is stopped.
    expect(await fetch(`http://127.0.0.1:${port}/health`).then(() => "up", () => "down")).toBe("down");
  }, 120_000);
});
