/**
 * Build the one executable: whitespace+syntax minification only (full --minify breaks Elysia),
 * no autoloading of .env/bunfig from the user's working directory, and a lazier JIT.
 * The status page's script and styles are built first and compiled in as a constant.
 *   bun scripts/build.ts [--outdir DIR]            → dist/atrad for this machine
 *   bun scripts/build.ts --release [--outdir DIR]  → atrad-{darwin-arm64,darwin-x64,linux-x64} + SHA256SUMS
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { bundleUi } from "../src/ui/bundle.ts";

const root = resolve(import.meta.dir, "..");
const outdirAt = process.argv.indexOf("--outdir");
const dist = outdirAt > 0 && process.argv[outdirAt + 1] ? resolve(process.argv[outdirAt + 1]!) : join(root, "dist");
const release = process.argv.includes("--release");
const TARGETS = ["bun-darwin-arm64", "bun-darwin-x64", "bun-linux-x64"] as const;

async function compile(outfile: string, ui: string, target?: string) {
  const args = [
    process.execPath, "build", "--compile",
    "--minify-whitespace", "--minify-syntax", "--sourcemap=none",
    // JIT tier-up thresholds x20: code run a few times (translating one long conversation,
    // start-up) stays in the lower tiers instead of leaving optimised code resident; the relay's
    // hot path still tiers up within seconds of load. Resting RSS after every kind -6.5 MB
    // (78 -> 71.5, bench/rss.ts, two runs each); streaming req/s within the run's noise.
    "--compile-jit-policy=20",
    "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig",
    `--define=__ATRAD_UI__=${ui}`,
    ...(target ? [`--target=${target}`] : []),
    join(root, "src/main.ts"), "--outfile", outfile,
  ];
  const proc = Bun.spawn(args, { cwd: root, stdout: "inherit", stderr: "inherit" });
  if ((await proc.exited) !== 0) throw new Error(`bun build failed for ${target ?? "host"}`);
}

mkdirSync(dist, { recursive: true });
const ui = JSON.stringify(await bundleUi());
if (!release) {
  await compile(join(dist, "atrad"), ui);
  console.log(`built ${join(dist, "atrad")}`);
} else {
  const sums: string[] = [];
  for (const target of TARGETS) {
    const name = `atrad-${target.replace(/^bun-/, "")}`;
    await compile(join(dist, name), ui, target);
    sums.push(`${createHash("sha256").update(readFileSync(join(dist, name))).digest("hex")}  ${name}`);
  }
  writeFileSync(join(dist, "SHA256SUMS"), sums.join("\n") + "\n");
  console.log(`built ${TARGETS.length} release binaries and ${join(dist, "SHA256SUMS")}`);
}
