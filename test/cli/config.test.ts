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

/** Each config message a person must be able to act on, as `atrad config check` prints it (exit 1). */
const failing: Array<{ name: string; toml: string; env?: Record<string, string>; args?: (home: string) => string[]; says: (file: string, home: string) => Array<string | RegExp> }> = [
  {
    name: "KeyOfAnotherKind_NamesTheKey",
    toml: `[providers.lmstudio]\nkind = "openai"\nurl = "http://127.0.0.1:1234"\nmax_steps = 5\n`,
    says: (file) => [file, 'providers.lmstudio.max_steps: unknown key for kind = "openai"; only kind = "victoria" takes it'],
  },
  {
    name: "CheckEqualsServe_NonLoopbackWithoutTokens",
    toml: `[server]\nhost = "0.0.0.0"\n`,
    says: () => ["refusing to listen on 0.0.0.0 without auth", "auth_tokens"],
  },
  {
    name: "MissingConfigFile_NamedByFlag",
    toml: "",
    args: (home) => ["--config", join(home, "nope.toml")],
    says: (_file, home) => [join(home, "nope.toml"), "no such file (named by --config)"],
  },
  {
    name: "TomlSyntax_FileLineColumn",
    toml: `[server]\nport = 8040\nprot = = 1\n`,
    says: (file) => [new RegExp(`${file.replaceAll(/[.*+?^${}()|[\]\\]/g, "\\$&")}:3:\\d+:`), /TOML syntax at line 3, column \d+/],
  },
  { name: "Misspelled_SuggestsTheKey", toml: `[server]\nprot = 8041\n`, says: () => ["server.prot: unknown key; did you mean `port`?"] },
  {
    name: "BadKind_ListsTheKinds",
    toml: `[providers.x]\nkind = "gemini"\nurl = "http://127.0.0.1:1"\n`,
    says: () => ['providers.x.kind: "gemini" is not allowed; use "anthropic" | "openai" | "ollama" | "victoria"'],
  },
  {
    name: "BadEnv_LogLevelNamesTheLevels",
    toml: "",
    env: { ATRAD_LOG_LEVEL: "bogus" },
    says: () => ['ATRAD_LOG_LEVEL: "bogus" is not allowed; use "debug" | "info" | "warn" | "error"'],
  },
];

describe("atrad config check", () => {
  test.each(failing)("$name", async ({ toml, env, args, says }) => {
    const { home, file } = withConfig(toml);
    const io = captureIO({ ATRAD_HOME: home, HOME: home, ...env });
    expect(await runCli(["config", "check", ...(args?.(home) ?? [])], io)).toBe(1);
    for (const s of says(file, home)) expect(io.stderr()).toMatch(s);
  });

  test.each([
    ["ValidFile", `[providers.lmstudio]\nkind = "openai"\nurl = "http://127.0.0.1:1234"\n`],
    ["NonLoopbackWithTokens", `[server]\nhost = "0.0.0.0"\nauth_tokens = ["a-long-random-string"]\n`],
  ])("%s_Passes", async (_name, toml) => {
    const { io } = withConfig(toml);
    expect(await runCli(["config", "check"], io)).toBe(0);
    expect(io.stdout()).toContain(": ok");
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
