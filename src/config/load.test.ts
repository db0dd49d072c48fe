import { describe, expect, test } from "bun:test";
import { ConfigError, parseConfigText, resolveConfig } from "./load.ts";

const env = { ATRAD_HOME: "/tmp/atrad-home" };
const load = (toml: string, e: Record<string, string> = {}) => resolveConfig(parseConfigText(toml, "/x/config.toml"), { env: { ...env, ...e }, file: "/x/config.toml" });
const problems = (toml: string) => {
  try {
    load(toml);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error("expected a ConfigError");
};

describe("config", () => {
  test("Defaults_ZeroConfig: the local stack, and every server key from the schema", () => {
    const c = load("");
    expect(c.server).toEqual({
      host: "127.0.0.1",
      port: 8040,
      auth_tokens: [],
      max_body_mb: 32,
      allowed_hosts: [],
      allowed_origins: [],
      ping_interval_s: 10,
      idle_timeout_s: 60,
      shutdown_grace_s: 10,
      max_connections: 1024,
      stream_commit_s: 120,
      launch_warmup: true,
    });
    expect(c.routes).toEqual({ default: [], aliases: {} });
    expect(c.log).toEqual({ level: "info" });
    expect(c.providers.map((p) => [p.name, p.kind, p.urls[0]])).toEqual([
      ["ollama", "anthropic", "http://127.0.0.1:11434"],
      ["mlx", "ollama", "http://127.0.0.1:11435"],
      ["victoria", "victoria", "http://127.0.0.1:8010"],
      ["veronica", "victoria", "http://127.0.0.1:8011"],
    ]);
    expect(c.services.map((s) => [s.name, s.port])).toEqual([
      ["ollama", 11434],
      ["mlx", 11435],
      ["victoria", 8010],
      ["veronica", 8011],
      ["knowledge_os", 8002],
    ]);
    expect(c.home).toBe("/tmp/atrad-home");
  });

  test("Merge_UserFieldOverDefault keeps the rest of the default provider (kind need not be repeated)", () => {
    const c = load(`[providers.mlx]\nurl = "http://10.0.0.5:11435/"\nnum_ctx = 32768\n`);
    expect(c.providers.find((p) => p.name === "mlx")).toMatchObject({ kind: "ollama", tools: "prompt", urls: ["http://10.0.0.5:11435"], num_ctx: 32768 });
  });

  test("Merge_KindChangeStartsFresh (no prompt tools inherited by an openai mlx)", () => {
    const c = load(`[providers.mlx]\nkind = "openai"\nurl = "http://127.0.0.1:8080"\n`);
    expect(c.providers.find((p) => p.name === "mlx")).toMatchObject({ kind: "openai", tools: "native" });
  });

  test("Merge_DisabledDefaultIsGone", () => {
    const c = load(`[providers.veronica]\nkind = "victoria"\nenabled = false\n[services.veronica]\nenabled = false\n`);
    expect(c.providers.some((p) => p.name === "veronica")).toBe(false);
    expect(c.services.some((s) => s.name === "veronica")).toBe(false);
  });

  test("Merge_DisabledDefaultProviderTakesItsDefaultServiceAlong", () => {
    const c = load(`[providers.ollama]\nenabled = false\n`);
    expect(c.providers.some((p) => p.name === "ollama")).toBe(false);
    expect(c.services.some((s) => s.name === "ollama")).toBe(false);
    // A service the user configured stays, only without the link to the disabled provider.
    const kept = load(`[providers.mlx]\nenabled = false\n[services.mlx]\ncommand = ["mlx-server"]\n`);
    expect(kept.services.find((s) => s.name === "mlx")).toMatchObject({ command: ["mlx-server"], provider: undefined });
  });

  test("Defaults_FromTheSchema: keys a table leaves out take the kind's defaults", () => {
    const c = load(`[providers.x]\nkind = "openai"\nurl = "http://a:1"\n`);
    expect(c.providers.find((p) => p.name === "x")).toMatchObject({ tools: "native", max_concurrency: 0, max_fails: 3, cooldown_s: 30, queue_timeout_s: 300, timeout_s: 600 });
    expect(c.providers.find((p) => p.name === "victoria")).toMatchObject({ tools: "none", project_context: "keep", show_progress: true, max_concurrency: 2 });
  });

  test("Env_OverridesPortAndHost", () => {
    const c = load("", { ATRAD_PORT: "9001", ATRAD_HOST: "::1" });
    expect(c.server.port).toBe(9001);
    expect(c.server.host).toBe("::1");
  });

  test("TomlSyntax_NamesFileLineAndColumn", () => {
    const msg = problems(`[server]\nport = 1\nhost = "a\n`);
    expect(msg).toContain("invalid config /x/config.toml:3:");
    expect(msg).toMatch(/TOML syntax at line 3, column \d+: /);
    // The offending line is quoted under the message.
    expect(msg).toContain('host = "a');
  });

  test.each([
    ["ATRAD_LOG_LEVEL", "bogus", 'ATRAD_LOG_LEVEL: "bogus" is not allowed; use "debug" | "info" | "warn" | "error"'],
    ["ATRAD_PORT", "eighty", "ATRAD_PORT"],
    ["ATRAD_PORT", "70000", 'ATRAD_PORT: "70000" is not a port (0–65535)'],
    ["ATRAD_HOST", "", "ATRAD_HOST"],
  ])("Env_%s=%p is an error naming the variable", (name, value, expected) => {
    let msg = "";
    try {
      load("", { [name]: value });
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toContain(expected);
  });

  test("Env_LogLevelOverridesTheFile", () => {
    expect(load(`[log]\nlevel = "warn"`, { ATRAD_LOG_LEVEL: "debug" }).log.level).toBe("debug");
    expect(load(`[log]\nlevel = "warn"`).log.level).toBe("warn");
  });

  test("ApiKeyEnv_ReadsTheVariable", () => {
    const c = load(`[providers.remote]\nkind = "openai"\nurl = "http://h:1"\napi_key_env = "MY_KEY"\n`, { MY_KEY: "sekret" });
    expect(c.providers.find((p) => p.name === "remote")!.apiKey).toBe("sekret");
  });

  test.each([
    ["wrong kind", `[providers.x]\nkind = "grpc"\nurl = "http://a:1"`, "providers.x.kind"],
    ["port as string", `[server]\nport = "80"`, "server.port"],
    ["unknown key", `[server]\nprot = 80`, "server"],
    ["route to a missing provider", `[routes]\ndefault = ["nope/m"]`, "routes.default[0]"],
    ["alias to a missing provider", `[routes.aliases]\nfast = ["nope/m"]`, 'routes.aliases."fast"[0]'],
    ["provider without url", `[providers.x]\nkind = "openai"`, "providers.x: needs url"],
    ["new provider without kind", `[providers.x]\nurl = "http://a:1"`, "providers.x.kind: required"],
    ["service pointing at unknown provider", `[services.s]\nport = 1\nprovider = "ghost"`, "services.s.provider"],
    ["TOML syntax", `[server\nport = 1`, "TOML syntax"],
    ["key of another kind", `[providers.x]\nkind = "openai"\nurl = "http://a:1"\nmax_steps = 5`, 'providers.x.max_steps: unknown key for kind = "openai"; only kind = "victoria" takes it'],
    ["misspelled key", `[server]\nprot = 80`, "server.prot: unknown key; did you mean `port`?"],
    ["misspelled provider key", `[providers.ollama]\nmax_concurency = 2`, "providers.ollama.max_concurency: unknown key; did you mean `max_concurrency`?"],
    ["bad kind lists the kinds", `[providers.x]\nkind = "grpc"\nurl = "http://a:1"`, 'providers.x.kind: "grpc" is not allowed; use "anthropic" | "openai" | "ollama" | "victoria"'],
    ["bad enum lists the values", `[providers.x]\nkind = "openai"\nurl = "http://a:1"\ntools = "magic"`, 'providers.x.tools: "magic" is not allowed; use "native" | "prompt" | "none"'],
    ["tool mode the kind lacks", `[providers.victoria]\ntools = "native"`, 'providers.victoria.tools: "native" is not allowed; use "none"'],
    ["mixed enum", `[providers.victoria]\nproject_context = "nope"`, 'providers.victoria.project_context: "nope" is not allowed; use "keep" | "drop" | an integer ≥ 0'],
    ["bad log level", `[log]\nlevel = "verbose"`, 'log.level: "verbose" is not allowed; use "debug" | "info" | "warn" | "error"'],
    ["bad provider name", `[providers."a b"]\nkind = "openai"\nurl = "http://a:1"`, 'providers."a b": "a b" is not a valid name'],
  ])("Invalid_%s names the key path", (_name, toml, expected) => {
    const msg = problems(toml);
    expect(msg).toContain("/x/config.toml");
    expect(msg).toContain(expected);
  });
});
