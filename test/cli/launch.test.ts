/**
 * `atrad launch claude [-- ARGS]` with a stand-in `claude` that records its environment,
 * arguments and working directory; the model names it receives are then sent through a real
 * daemon to prove they resolve to the configured routes.
 */
import { describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../src/cli/index.ts";
import { probeHealth } from "../../src/platform/health.ts";
import { isAlive, readPid } from "../../src/platform/pidfile.ts";
import { startTestDaemon } from "../support/daemon.ts";
import { freePort } from "../support/procs.ts";
import { atradInFrontOf, ollamaToml } from "../support/gateway.ts";
import { startOllamaStandIn } from "../standins/ollama.ts";
import { captureIO, deadPort, fakeAtradBinary, fakeClaude, sandbox } from "../platform/support.ts";
import { noDefaultServices } from "../support/services.ts";

const readEnv = (file: string) =>
  Object.fromEntries(
    readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );

/** The default stack's other providers (they would count as "not observed yet") and services off. */
const onlyConfigured = () => noDefaultServices() + ["mlx", "victoria", "veronica"].map((n) => `[providers.${n}]\nenabled = false\n`).join("");

/** A user's sandbox with this config file, pointed at the daemon at `url`, and a stand-in claude. */
function userWith(config: string, url: string) {
  const box = sandbox();
  mkdirSync(box.atradHome, { recursive: true });
  writeFileSync(join(box.atradHome, "config.toml"), config);
  box.env.ATRAD_PORT = String(new URL(url).port);
  return { box, claude: fakeClaude(box.bin) };
}

const ollama = startOllamaStandIn();
// ollamaToml ends in its [routes] table: opus joins it.
const toml = `[server]\nauth_tokens = ["secret-token"]\n${ollamaToml(ollama.url)}opus = ["ollama/qwen2.5-coder:32b"]\n`;
const { atrad: daemon } = await atradInFrontOf({ ollama }, () => toml);

describe("atrad launch claude", () => {
  test("runs claude with the documented environment and the passed-through arguments", async () => {
    const { box, claude } = userWith(toml, daemon.url);
    box.env.ANTHROPIC_API_KEY = "sk-from-the-users-shell";
    const io = captureIO(box.env);
    const code = await runCli(["launch", "claude", "--", "-p", "hello world", "--model", "haiku"], io);
    expect(code).toBe(7); // claude's own exit code comes back
    const env = readEnv(claude.envFile);
    expect(env.ANTHROPIC_BASE_URL).toBe(daemon.url);
    expect(env.ANTHROPIC_AUTH_TOKEN).toBe("secret-token");
    expect(env.ANTHROPIC_API_KEY).toBe("");
    expect(env.ANTHROPIC_DEFAULT_OPUS_MODEL).toBe("opus");
    expect(env.ANTHROPIC_DEFAULT_SONNET_MODEL).toBe("sonnet");
    expect(env.ANTHROPIC_DEFAULT_HAIKU_MODEL).toBe("haiku");
    expect(env.CLAUDE_CODE_SUBAGENT_MODEL).toBe("sonnet");
    expect(env.CLAUDE_CODE_ATTRIBUTION_HEADER).toBe("0");
    expect(Number(env.API_TIMEOUT_MS)).toBeGreaterThanOrEqual(600_000);
    expect(env.HOME).toBe(box.home); // the rest of the user's environment is kept
    expect(env.CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY).toBe("1");
    expect(env.CLAUDE_CODE_GATEWAY_HINT_HEADERS).toBe("1");
    // A local-only setup: no auto-update, no calls home.
    expect(env.DISABLE_AUTOUPDATER).toBe("1");
    expect(env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC).toBe("1");
    // This server does not say its window: Claude Code is not told a made-up one.
    expect(env.CLAUDE_CODE_MAX_CONTEXT_TOKENS).toBeUndefined();
    // atrad's settings file (the status line) comes first, then the user's arguments untouched.
    const settingsFile = join(box.atradHome, "claude", "settings.json");
    expect(readFileSync(claude.argsFile, "utf8")).toBe(`--settings\n${settingsFile}\n-p\nhello world\n--model\nhaiku\n`);
    const settings = JSON.parse(readFileSync(settingsFile, "utf8"));
    expect(settings.statusLine.type).toBe("command");
    expect(settings.statusLine.command).toEndWith(" statusline");
    expect(readFileSync(claude.cwdFile, "utf8").trim()).toBe(process.cwd());

    // The names Claude Code will send resolve through atrad's router to the configured routes.
    for (const [name, served] of [
      [env.ANTHROPIC_DEFAULT_HAIKU_MODEL, "phi3.5:3.8b"],
      [env.ANTHROPIC_DEFAULT_OPUS_MODEL, "qwen2.5-coder:32b"],
      [env.ANTHROPIC_DEFAULT_SONNET_MODEL, "qwen2.5-coder:32b"], // no sonnet route: default
    ] as const) {
      const res = await fetch(`${env.ANTHROPIC_BASE_URL}/v1/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${env.ANTHROPIC_AUTH_TOKEN}`, "anthropic-version": "2023-06-01", "content-type": "application/json" },
        body: JSON.stringify({ model: name, max_tokens: 16, messages: [{ role: "user", content: "hi" }] }),
      });
      expect(res.status).toBe(200);
      expect(ollama.received.at(-1)!.body.model).toBe(served);
    }
  });

  test("no token configured: a placeholder; a provider named like a tier doesn't hijack it", async () => {
    const { box, claude } = userWith(`[providers.haiku]\nkind = "openai"\nurl = "http://127.0.0.1:1"\n`, daemon.url);
    expect(await runCli(["launch", "claude"], captureIO(box.env))).toBe(7);
    const env = readEnv(claude.envFile);
    expect(env.ANTHROPIC_AUTH_TOKEN).toBe("atrad-local");
    expect(env.ANTHROPIC_DEFAULT_HAIKU_MODEL).toBe("atrad-haiku");
    expect(readFileSync(claude.argsFile, "utf8")).toBe(`--settings\n${join(box.atradHome, "claude", "settings.json")}\n`);
  });

  test("starts atrad in the background when nothing answers, then runs claude", async () => {
    const box = sandbox();
    const port = deadPort();
    Object.assign(box.env, { ATRAD_SERVICE_MANAGER: "none", ATRAD_PORT: String(port) });
    mkdirSync(box.atradHome, { recursive: true });
    writeFileSync(join(box.atradHome, "config.toml"), `[providers.ollama]\nkind = "anthropic"\nurl = "${ollama.url}"\n${onlyConfigured()}`);
    mkdirSync(join(box.home, ".local/bin"), { recursive: true });
    copyFileSync(fakeAtradBinary(box.root), join(box.home, ".local/bin/atrad"));
    const claude = fakeClaude(box.bin);
    const io = captureIO(box.env);
    try {
      expect(await runCli(["launch", "claude", "--", "--version-check"], io)).toBe(7);
      expect(io.stderr()).toContain("starting atrad (background)");
      expect((await probeHealth(`http://127.0.0.1:${port}`)).state).toBe("atrad");
      expect(readEnv(claude.envFile).ANTHROPIC_BASE_URL).toBe(`http://127.0.0.1:${port}`);
    } finally {
      const pid = readPid(join(box.atradHome, "atrad.pid"));
      if (pid && isAlive(pid)) process.kill(pid, "SIGTERM");
    }
  }, 30_000);

  test("sets Claude Code's window variables from the main model's window", async () => {
    const windowed = startOllamaStandIn({ models: ["qwen3:30b"], window: { trained: 262144, loaded: 16384 } });
    const config = `[providers.local]\nkind = "anthropic"\nurl = "${windowed.url}"\n[routes]\nopus = ["local/qwen3:30b"]\n`;
    const d = await startTestDaemon(config);
    try {
      const { box, claude } = userWith(config, d.url);
      expect(await runCli(["launch", "claude"], captureIO(box.env))).toBe(7);
      const env = readEnv(claude.envFile);
      // The model id Claude Code sends ("opus") does not start with claude-, so it applies these.
      expect(env.ANTHROPIC_DEFAULT_OPUS_MODEL).toBe("opus");
      expect(env.CLAUDE_CODE_MAX_CONTEXT_TOKENS).toBe("16384");
      expect(env.CLAUDE_CODE_AUTO_COMPACT_WINDOW).toBe("16384");
      expect(env.CLAUDE_CODE_MAX_OUTPUT_TOKENS).toBe("4096");

      // A value in the user's own environment wins.
      box.env.CLAUDE_CODE_MAX_OUTPUT_TOKENS = "2000";
      expect(await runCli(["launch", "claude"], captureIO(box.env))).toBe(7);
      expect(readEnv(claude.envFile).CLAUDE_CODE_MAX_OUTPUT_TOKENS).toBe("2000");
    } finally {
      await d.stop();
      await windowed.stop();
    }
  });

  test("the user's own DISABLE_AUTOUPDATER wins over launch's", async () => {
    const { box, claude } = userWith(toml, daemon.url);
    box.env.DISABLE_AUTOUPDATER = "0";
    expect(await runCli(["launch", "claude"], captureIO(box.env))).toBe(7);
    expect(readEnv(claude.envFile).DISABLE_AUTOUPDATER).toBe("0");
  });

  describe("checks that a model can answer before it launches", () => {
    /** launch against a daemon with this config (written for the CLI too); claude's env file if it ran. */
    async function launchWith(config: string) {
      const d = await startTestDaemon(config);
      try {
        const { box, claude } = userWith(config, d.url);
        const io = captureIO(box.env);
        const code = await runCli(["launch", "claude"], io);
        return { code, stderr: io.stderr(), ran: existsSync(claude.envFile) };
      } finally {
        await d.stop();
      }
    }

    test("every backend down: names it and how to start it, exits 69, Claude Code not started", async () => {
      const port = deadPort();
      const r = await launchWith(`[providers.ollama]\nkind = "anthropic"\nurl = "http://127.0.0.1:${port}"\n[routes]\nopus = ["ollama/qwen2.5-coder:32b"]\n${noDefaultServices()}`);
      expect(r.code).toBe(69);
      expect(r.ran).toBe(false);
      expect(r.stderr).toContain("nothing can answer Claude Code's main model (route opus → ollama/qwen2.5-coder:32b)");
      expect(r.stderr).toContain("ollama/qwen2.5-coder:32b: ollama is down");
      expect(r.stderr).toContain("start it with `");
      expect(r.stderr).toContain("`atrad status`");
    });

    test("the backend is up but lacks the model: says to pull it", async () => {
      const r = await launchWith(`[providers.ollama]\nkind = "anthropic"\nurl = "${ollama.url}"\n[routes]\nopus = ["ollama/llama3.3:70b"]\n${noDefaultServices()}`);
      expect(r.code).toBe(69);
      expect(r.ran).toBe(false);
      expect(r.stderr).toContain('ollama/llama3.3:70b: ollama is up but has no model "llama3.3:70b"; pull it: `ollama pull llama3.3:70b` (it has: qwen2.5-coder:32b, phi3.5:3.8b)');
    });

    test("no route and a backend with no model at all: says to pull one", async () => {
      const empty = startOllamaStandIn({ models: [] });
      try {
        const r = await launchWith(`[providers.ollama]\nkind = "anthropic"\nurl = "${empty.url}"\n${onlyConfigured()}`);
        expect(r.code).toBe(69);
        expect(r.stderr).toContain("ollama: ollama is up but serves no model; pull it: `ollama pull ");
      } finally {
        await empty.stop();
      }
    });

    // The order at login: atrad is up before Ollama, and cached that it could not list its models.
    test("a backend that came up after the daemon last looked is asked again: Claude Code starts", async () => {
      const port = freePort();
      const config = `[providers.ollama]\nkind = "anthropic"\nurl = "http://127.0.0.1:${port}"\n[routes]\nopus = ["ollama/qwen2.5-coder:32b"]\n${onlyConfigured()}`;
      const d = await startTestDaemon(config);
      let late: ReturnType<typeof startOllamaStandIn> | undefined;
      try {
        await fetch(`${d.url}/v1/models`);
        expect(d.router.catalog.known("ollama").error).toBeDefined();
        late = startOllamaStandIn({ port });
        const { box, claude } = userWith(config, d.url);
        expect(await runCli(["launch", "claude"], captureIO(box.env))).toBe(7);
        expect(existsSync(claude.envFile)).toBe(true);
      } finally {
        await d.stop();
        await late?.stop();
      }
    });

    test("one target of the route that can answer is enough: Claude Code starts", async () => {
      const port = deadPort();
      const r = await launchWith(`[providers.gone]\nkind = "openai"\nurl = "http://127.0.0.1:${port}"\n[providers.ollama]\nkind = "anthropic"\nurl = "${ollama.url}"\n[routes]\nopus = ["gone/m", "ollama/qwen2.5-coder:32b"]\n${noDefaultServices()}`);
      expect([r.code, r.ran]).toEqual([7, true]);
    });
  });

  test("missing claude: says how to install it", async () => {
    const box = sandbox();
    const io = captureIO(box.env);
    expect(await runCli(["launch", "claude"], io)).toBe(127);
    expect(io.stderr()).toContain("npm install -g @anthropic-ai/claude-code");
  });
});
