/** `atrad config …` through the CLI entry point, on config files in a temp dir. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli/index.ts";
import { parse } from "smol-toml";
import { renderInitialConfig } from "../../src/config/render.ts";
import { ServerSchema, ServiceSchema } from "../../src/config/schema.ts";
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

  test("CheckEqualsServe_NonLoopbackWithoutTokensFails", async () => {
    const { io } = withConfig(`[server]\nhost = "0.0.0.0"\n`);
    expect(await runCli(["config", "check"], io)).toBe(1);
    expect(io.stderr()).toContain("refusing to listen on 0.0.0.0 without auth");
    expect(io.stderr()).toContain("auth_tokens");
    const withTokens = withConfig(`[server]\nhost = "0.0.0.0"\nauth_tokens = ["a-long-random-string"]\n`);
    expect(await runCli(["config", "check"], withTokens.io)).toBe(0);
  });

  test("MissingConfigFile_NamedByFlag_IsAnError", async () => {
    const { io, home } = withConfig("");
    const missing = join(home, "nope.toml");
    expect(await runCli(["config", "check", "--config", missing], io)).toBe(1);
    expect(io.stderr()).toContain(missing);
    expect(io.stderr()).toContain("no such file (named by --config)");
  });

  test("TomlSyntax_FileLineColumn", async () => {
    const { io, file } = withConfig(`[server]\nport = 8040\nprot = = 1\n`);
    expect(await runCli(["config", "check"], io)).toBe(1);
    expect(io.stderr()).toMatch(new RegExp(`${file.replaceAll(/[.*+?^${}()|[\]\\]/g, "\\$&")}:3:\\d+`));
  });

  test("Misspelled_SuggestsTheKey", async () => {
    const { io } = withConfig(`[server]\nprot = 8041\n`);
    expect(await runCli(["config", "check"], io)).toBe(1);
    expect(io.stderr()).toContain("server.prot: unknown key; did you mean `port`?");
  });

  test("BadKind_ListsTheKinds", async () => {
    const { io } = withConfig(`[providers.x]\nkind = "gemini"\nurl = "http://127.0.0.1:1"\n`);
    expect(await runCli(["config", "check"], io)).toBe(1);
    expect(io.stderr()).toContain('providers.x.kind: "gemini" is not allowed; use "anthropic" | "openai" | "ollama" | "victoria"');
  });

  test("BadEnv_LogLevelNamesTheLevels", async () => {
    const { home } = withConfig("");
    const io = captureIO({ ATRAD_HOME: home, HOME: home, ATRAD_LOG_LEVEL: "bogus" });
    expect(await runCli(["config", "check"], io)).toBe(1);
    expect(io.stderr()).toContain('ATRAD_LOG_LEVEL: "bogus" is not allowed; use "debug" | "info" | "warn" | "error"');
  });
});

describe("atrad config print", () => {
  test("EveryKeyThatIsSet: each server key (defaults too) and each set service key, secrets masked", async () => {
    const { io } = withConfig(
      `[server]\nauth_tokens = ["tok-secret"]\n[providers.remote]\nkind = "openai"\nurl = "http://127.0.0.1:1234"\napi_key = "key-secret"\n` +
        `[services.remote]\nhealth = "http://127.0.0.1:1234/health"\nprovider = "remote"\ncommand = ["srv"]\ncwd = "/tmp"\nrestart = ["r"]\nenv = { A = "1" }\nexpect = { status = ["ok"] }\nstart_timeout_s = 30\nstop_timeout_s = 3\n`,
    );
    expect(await runCli(["config", "print"], io)).toBe(0);
    const out = io.stdout();
    const printed = parse(out) as Record<string, Record<string, Record<string, unknown>>>;
    expect(Object.keys(printed.server!).sort()).toEqual(Object.keys(ServerSchema.properties).sort());
    expect(Object.keys(printed.services!.remote!).sort()).toEqual(Object.keys(ServiceSchema.properties).filter((k) => k !== "enabled").sort());
    expect(printed.providers!.remote).toMatchObject({ kind: "openai", urls: ["http://127.0.0.1:1234"], api_key: "***", tools: "native", max_fails: 3, timeout_s: 600 });
    expect(printed.log as unknown).toEqual({ level: "info" });
    expect(out).not.toContain("secret");
  });
});

describe("atrad config init's file: a [routes] table only when there is something to put in it", () => {
  test("NoModelFound_NoEmptyRoutes_ACommentedExample_Parses", () => {
    const text = renderInitialConfig({ default: [], opus: [], sonnet: [], haiku: [] });
    expect(text).not.toMatch(/^\[routes\]$/m);
    expect(text).toContain("# [routes]");
    expect(text).toContain('# default = ["ollama/qwen3-coder"]');
    expect((parse(text) as { routes?: Record<string, unknown> }).routes ?? {}).toEqual({ aliases: {} });
  });

  test("ModelsFound_ARoutesTable", () => {
    const text = renderInitialConfig({ default: ["ollama/qwen2.5-coder:32b"], haiku: ["ollama/phi3.5:3.8b"] });
    expect(text).toMatch(/^\[routes\]$/m);
    expect((parse(text) as { routes: Record<string, unknown> }).routes).toEqual({ default: ["ollama/qwen2.5-coder:32b"], haiku: ["ollama/phi3.5:3.8b"], aliases: {} });
  });
});
