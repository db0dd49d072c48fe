/**
 * scripts/install.sh from a clean clone into a scratch prefix (and uninstall.sh back out), and
 * the release build: three executables whose Mach-O/ELF headers name the right CPU, plus sums.
 */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

const root = resolve(import.meta.dir, "../..");

function sh(argv: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const r = Bun.spawnSync(argv, { cwd: opts.cwd ?? root, env: { ...process.env, ...opts.env } as Record<string, string>, stdout: "pipe", stderr: "pipe" });
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
  test("--prefix <tmp> --no-service from a clean clone installs a working atrad; uninstall.sh removes it", () => {
    const tmp = mkdtempSync(join(tmpdir(), "atrad-install-"));
    const clone = join(tmp, "clone");
    const prefix = join(tmp, "prefix");
    const head = sh(["git", "rev-parse", "HEAD"]).out.trim();
    expect(sh(["git", "clone", "--quiet", "--no-local", root, clone]).code).toBe(0);
    expect(sh(["git", "checkout", "--quiet", head], { cwd: clone }).code).toBe(0);

    // Bun is on PATH here, so install.sh uses it; HOME is scratch so nothing real is touched.
    const env = { HOME: join(tmp, "home"), ATRAD_HOME: join(tmp, "home/.atrad"), ATRAD_SERVICE_MANAGER: "none", PATH: `${dirname(process.execPath)}:/usr/bin:/bin` };
    const r = sh(["bash", "scripts/install.sh", "--prefix", prefix, "--no-service"], { cwd: clone, env });
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const lines = r.out.trim().split("\n");
    for (const line of lines) expect(line).toMatch(/^==> /); // one clear line per step
    expect(r.out).toContain(`installed ${prefix}/bin/atrad (atrad `);
    expect(r.out).toContain("skipped the login service (--no-service)");
    const version = sh([join(prefix, "bin/atrad"), "--version"], { env });
    expect(version.out).toMatch(/^atrad \d+\.\d+\.\d+ \(bun /);

    // Idempotent: a second run succeeds and leaves one working atrad.
    expect(sh(["bash", "scripts/install.sh", "--prefix", prefix, "--no-service"], { cwd: clone, env }).code).toBe(0);
    expect(sh([join(prefix, "bin/atrad"), "--version"], { env }).code).toBe(0);

    const un = sh(["bash", "scripts/uninstall.sh", "--prefix", prefix], { cwd: clone, env });
    expect(un.code).toBe(0);
    expect(existsSync(join(prefix, "bin/atrad"))).toBe(false);
    expect(existsSync(join(prefix, "libexec/atrad"))).toBe(false);
    expect(sh(["bash", "scripts/uninstall.sh", "--prefix", prefix], { cwd: clone, env }).code).toBe(0);
  }, 120_000);
});
