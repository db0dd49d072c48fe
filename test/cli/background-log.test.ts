/**
 * The background mode (no service manager) redirects the daemon's stdout/stderr into
 * $ATRAD_HOME/logs/atrad.log, the file the daemon itself writes for `atrad logs`: every line
 * must still be there exactly once.
 */
import { expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../src/cli/index.ts";
import { captureIO, deadPort, fakeAtradBinary, sandbox } from "../platform/support.ts";

test("background mode writes each daemon log line once", async () => {
  const box = sandbox();
  const port = deadPort();
  Object.assign(box.env, { ATRAD_SERVICE_MANAGER: "none", ATRAD_PORT: String(port) });
  mkdirSync(box.atradHome, { recursive: true });
  writeFileSync(join(box.atradHome, "config.toml"), "[services.mlx]\nenabled = false\n[services.victoria]\nenabled = false\n");
  const run = async (...argv: string[]) => {
    const io = captureIO(box.env);
    const code = await runCli(argv, io);
    if (code !== 0) throw new Error(`atrad ${argv.join(" ")}: ${io.stderr()}${io.stdout()}`);
  };
  try {
    await run("install", "--platform", "linux", "--binary", fakeAtradBinary(box.root));
    // A request gives the log more than the start-up lines; then stop, so the log is complete.
    await fetch(`http://127.0.0.1:${port}/v1/models`);
    await run("stop");
  } finally {
    await runCli(["uninstall"], captureIO(box.env));
  }
  const lines = readFileSync(join(box.atradHome, "logs", "atrad.log"), "utf8").split("\n").filter(Boolean);
  expect(lines.filter((l) => l.includes(`listening on http://127.0.0.1:${port}`))).toHaveLength(1);
  expect(lines.some((l) => l.includes("received SIGTERM"))).toBe(true);
  const seen = new Map<string, number>();
  for (const l of lines) seen.set(l, (seen.get(l) ?? 0) + 1);
  expect([...seen].filter(([, n]) => n > 1)).toEqual([]);
}, 30_000);
