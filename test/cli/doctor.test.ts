/** `atrad doctor` against stand-in Ollama / MLX servers, a real daemon and a stand-in claude. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../src/cli/index.ts";
import { ollamaFixes, runDoctor, versionAtLeast } from "../../src/cli/doctor.ts";
import { startTestDaemon, type TestDaemon } from "../support/daemon.ts";
import { startOllamaStandIn, type OllamaStandIn } from "../standins/ollama.ts";
import { captureIO, deadPort, fakeClaude, sandbox } from "../platform/support.ts";

let ollama: OllamaStandIn;
let daemon: TestDaemon;
let mlx: ReturnType<typeof Bun.serve>;
let oldOllama: ReturnType<typeof Bun.serve>;
let notAtrad: ReturnType<typeof Bun.serve>;
beforeAll(async () => {
  ollama = startOllamaStandIn();
  daemon = await startTestDaemon("");
  mlx = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (r) => (new URL(r.url).pathname === "/health" ? Response.json({ status: "healthy" }) : new Response("", { status: 404 })) });
  oldOllama = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json({ version: "0.13.5" }) });
  // The old Python proxy's shape: FastAPI JSON that is not atrad's /health.
  notAtrad = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json({ status: "healthy", proxy: "victoria" }) });
});
afterAll(async () => {
  await daemon.stop();
  await ollama.stop();
  mlx.stop(true);
  oldOllama.stop(true);
  notAtrad.stop(true);
});

function setup(config: string, port = new URL(daemon.url).port) {
  const box = sandbox();
  mkdirSync(box.atradHome, { recursive: true });
  writeFileSync(join(box.atradHome, "config.toml"), config);
  Object.assign(box.env, { ATRAD_PORT: String(port), ATRAD_SERVICE_MANAGER: "none" });
  fakeClaude(box.bin);
  return box;
}

const stack = (mlxUrl: string, ollamaUrl = ollama.url, routes = `default = ["ollama/qwen2.5-coder:32b"]\nhaiku = ["ollama/phi3.5"]`) => `
[providers.ollama]
kind = "anthropic"
url = "${ollamaUrl}"
[providers.mlx]
kind = "ollama"
url = "${mlxUrl}"
[services.mlx]
health = "${mlxUrl}/health"
[services.victoria]
enabled = false
[routes]
${routes}
`;

describe("atrad doctor", () => {
  test("a healthy stack: every check passes (the service check only warns without a manager)", async () => {
    const box = setup(stack(mlx.url.origin, ollama.url, `default = ["ollama/qwen2.5-coder:32b"]\nhaiku = ["ollama/phi3.5:3.8b"]`));
    const io = captureIO(box.env);
    const code = await runCli(["doctor"], io);
    const out = io.stdout();
    expect(out).toContain("ok    port");
    expect(out).toContain("atrad 0.");
    expect(out).toContain("ok    ollama: Ollama 0.33.0");
    expect(out).toContain("ok    route default: ollama/qwen2.5-coder:32b: installed on ollama");
    expect(out).toContain(`ok    port ${mlx.port}: ATRA MLX server (status healthy)`);
    expect(out).toContain("ok    claude code: 2.1.330 (Claude Code)");
    expect(out).toMatch(/^ok    models: ollama: \d+ models/m);
    expect(out).toContain("warn  service: no service manager here");
    expect(out).toContain("all checks passed");
    expect(code).toBe(0);
  });

  test("failures each carry a fix, and the exit code is non-zero", async () => {
    const box = setup(stack(ollama.url, oldOllama.url.origin, `default = ["ollama/qwen2.5-coder:32b"]\nhaiku = ["ollama/missing:1b"]`), String(notAtrad.port));
    box.env.PATH = `${box.root}/empty:/usr/bin:/bin`; // no claude
    mkdirSync(join(box.atradHome, "logs"), { recursive: true });
    writeFileSync(join(box.atradHome, "logs/requests.jsonl"), "");
    truncateSync(join(box.atradHome, "logs/requests.jsonl"), 300 * 1024 * 1024); // sparse: no disk used
    const checks = await runDoctor(captureIO(box.env));
    const by = (prefix: string) => checks.find((c) => c.name.startsWith(prefix))!;

    expect(by(`port ${notAtrad.port}`)).toMatchObject({ level: "fail" });
    expect(by(`port ${notAtrad.port}`).fix).toContain(`lsof -nP -iTCP:${notAtrad.port}`);
    expect(by("ollama")).toMatchObject({ level: "fail" });
    expect(by("ollama").detail).toContain("0.13.5");
    expect(by("ollama").fix).toContain(ollamaFixes("linux").upgrade);
    expect(by("ollama").fix).not.toContain("brew");
    // The routes are checked against the upstream that serves them (here the old Ollama has no tags).
    expect(by("route haiku")).toMatchObject({ level: "fail" });
    // The MLX port is held by Ollama (its Claude Desktop gateway on 11435 in real life).
    const mlxCheck = by(`port ${ollama.port}`);
    expect(mlxCheck.level).toBe("fail");
    expect(mlxCheck.detail).toContain("Ollama 0.33.0 holds");
    expect(by("claude code")).toMatchObject({ level: "warn", fix: "npm install -g @anthropic-ai/claude-code" });
    expect(by("logs")).toMatchObject({ level: "warn" });
    expect(by("logs").detail).toContain("requests.jsonl 300.0 MB");
    for (const c of checks.filter((c) => c.level === "fail")) expect(c.fix).toBeTruthy();

    const io = captureIO(box.env);
    expect(await runCli(["doctor"], io)).toBe(1);
    expect(io.stdout()).toMatch(/\d+ checks failed\n$/);
    expect(io.stdout()).toContain(`      fix: ${ollamaFixes("linux").upgrade}`);
  });

  test("a route's model missing upstream: fix is `ollama pull`; nothing on the daemon port: `atrad start`", async () => {
    const box = setup(stack(`http://127.0.0.1:${deadPort()}`, ollama.url, `default = ["ollama/qwen2.5-coder"]\nhaiku = ["ollama/missing:1b"]`), String(deadPort()));
    const checks = await runDoctor(captureIO(box.env));
    const by = (prefix: string) => checks.find((c) => c.name.startsWith(prefix))!;
    expect(by("route haiku")).toMatchObject({ level: "fail", fix: "ollama pull missing:1b" });
    expect(by("route default")).toMatchObject({ level: "fail" }); // qwen2.5-coder means :latest, which isn't there
    expect(checks.find((c) => c.name.startsWith("port") && c.fix === "atrad start")).toBeTruthy();
    expect(checks.find((c) => c.detail.includes("MLX server is not running"))!.level).toBe("warn");
  });

  test("missing claude alone is a warning: exit 0", async () => {
    const box = setup(stack(mlx.url.origin, ollama.url, `default = ["ollama/qwen2.5-coder:32b"]`));
    box.env.PATH = `${box.root}/empty:/usr/bin:/bin`;
    const io = captureIO(box.env);
    expect(await runCli(["doctor"], io)).toBe(0);
    expect(io.stdout()).toContain("warn  claude code: `claude` is not on PATH");
    expect(io.stdout()).toContain("all checks passed");
  });

  test("no model anywhere: the models check fails in atrad's words, with this platform's fix", async () => {
    const dead = `http://127.0.0.1:${deadPort()}`;
    const box = setup(stack(dead, dead, `default = ["ollama/qwen2.5-coder:32b"]`).replace("[services.victoria]", "[providers.victoria]\nenabled = false\n[providers.veronica]\nenabled = false\n[services.victoria]"));
    const io = captureIO(box.env);
    expect(await runCli(["doctor"], io)).toBe(1);
    const out = io.stdout();
    expect(out).toMatch(/^FAIL  models: no model to serve: ollama is unreachable: connection refused at 127\.0\.0\.1:\d+.*; mlx is unreachable/m);
    expect(out).toContain(`warn  ollama: not reachable at ${dead}: connection refused`);
    expect(out).not.toContain("Is the computer able");
    expect(out).not.toContain("brew");
    expect(out).toContain(`fix: start a provider (${ollamaFixes("linux").start})`);
  });

  test("an Ollama with no model: pull one", async () => {
    const empty = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (r) => (new URL(r.url).pathname === "/api/tags" ? Response.json({ models: [] }) : Response.json({ version: "0.33.0" })) });
    try {
      const box = setup(stack(`http://127.0.0.1:${deadPort()}`, empty.url.origin, `default = ["ollama"]`).replace("[services.victoria]", "[providers.victoria]\nenabled = false\n[providers.veronica]\nenabled = false\n[services.victoria]"));
      const checks = await runDoctor(captureIO(box.env));
      const models = checks.find((c) => c.name === "models")!;
      expect(models).toMatchObject({ level: "fail", fix: "ollama pull qwen2.5-coder:7b   (any model will do)" });
      expect(models.detail).toStartWith("no model to serve: ollama has no model; mlx is unreachable");
    } finally {
      empty.stop(true);
    }
  });

  test("fixes in the platform's terms", () => {
    expect(ollamaFixes("darwin")).toEqual({ start: "brew services start ollama   (or: ollama serve)", upgrade: "brew upgrade ollama" });
    expect(JSON.stringify(ollamaFixes("linux"))).not.toContain("brew");
  });

  test("Ollama version comparison", () => {
    expect(versionAtLeast("0.14.0", [0, 14, 0])).toBe(true);
    expect(versionAtLeast("0.13.9", [0, 14, 0])).toBe(false);
    expect(versionAtLeast("0.33.0-rc1", [0, 14, 0])).toBe(true);
    expect(versionAtLeast("1.0", [0, 14, 0])).toBe(true);
  });
});
