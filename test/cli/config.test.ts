/** `atrad config …` through the CLI entry point, on config files in a temp dir. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli/index.ts";
import { captureIO } from "../platform/support.ts";

function withConfig(toml: string) {
  const home = mkdtempSync(join(tmpdir(), "atrad-config-"));
  const file = join(home, "config.toml");
  writeFileSync(file, toml);
  return { home, file, io: captureIO({ ATRAD_HOME: home, HOME: home }) };
}

describe("atrad config check", () => {
  test("KeyOfAnotherKind_FailsNamingTheKey", async () => {
    const { io, file } = withConfig(`[providers.lmstudio]\nkind = "openai"\nurl = "http://127.0.0.1:1234"\nmax_steps = 5\n`);
    expect(await runCli(["config", "check"], io)).toBe(1);
    expect(io.stderr()).toContain(file);
    expect(io.stderr()).toContain("providers.lmstudio.max_steps");
  });

  test("ValidFile_Passes", async () => {
    const { io } = withConfig(`[providers.lmstudio]\nkind = "openai"\nurl = "http://127.0.0.1:1234"\n`);
    expect(await runCli(["config", "check"], io)).toBe(0);
    expect(io.stdout()).toContain("ok");
  });
});
