/**
 * The real Claude Code CLI finishes a task that needs a tool round trip through the `ollama`
 * kind: once with native tools (an /api/chat server that has them), once with tools = "prompt"
 * (the ATRA MLX server, which has none). The stand-in "model" is a script: without a tool
 * result in the last message it asks to Write a file; with one, it answers.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAtraMlxStandIn } from "../standins/atra-mlx.ts";
import { startOllamaChatStandIn } from "../standins/ollama-chat.ts";
import { runClaude } from "../support/claude.ts";
import { startTestDaemon, type TestDaemon } from "../support/daemon.ts";

const CONTENT = "hello from a local model\n  indented line\n";
const stops: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

async function daemonFor(kind: "native" | "prompt", url: string, model: string): Promise<TestDaemon> {
  const atrad = await startTestDaemon(`
[providers.local]
kind = "ollama"
url = "${url}"
tools = "${kind}"
[routes]
default = ["local/${model}"]
`);
  stops.push(() => atrad.stop());
  return atrad;
}

function hasWrite(body: any): boolean {
  return (body.tools ?? []).some((t: any) => t.function?.name === "Write") || String(body.messages?.[0]?.content ?? "").includes('<tool name="Write">');
}

// Each test has its own stand-in, daemon and cwd: they run side by side.
describe.concurrent("Claude Code CLI through the ollama kind", () => {
  test("native tools: Write round trip", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "atrad-e2e-native-"));
    const target = join(cwd, "hello.txt");
    const chat = startOllamaChatStandIn({ models: ["qwen2.5-coder:7b"] });
    stops.push(() => chat.stop());
    chat.reply = (body) => {
      const last = body.messages.at(-1);
      if (last.role === "tool") return { items: [{ text: "I wrote hello.txt." }] };
      if (!hasWrite(body)) return { items: [{ text: "ok" }] };
      return { items: [{ text: "Writing the file." }, { tool: { name: "Write", arguments: { file_path: target, content: CONTENT } } }] };
    };
    const atrad = await daemonFor("native", chat.url, "qwen2.5-coder:7b");
    const run = await runClaude({ baseUrl: atrad.url, cwd, prompt: "Create hello.txt", args: ["--allowedTools", "Write"], timeoutMs: 90_000 });
    expect({ exit: run.exitCode, result: run.result?.result, stderr: run.stderr.slice(0, 500) }).toMatchObject({ exit: 0, result: "I wrote hello.txt." });
    expect(existsSync(target)).toBe(true);
    expect(readFileSync(target, "utf8")).toBe(CONTENT);
    const withTools = chat.received.find((b) => b.tools?.length);
    expect(withTools.tools.length).toBeGreaterThan(3);
  }, 120_000);

  test("tools = prompt (ATRA MLX, no tool support): Write round trip", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "atrad-e2e-prompt-"));
    const target = join(cwd, "hello.txt");
    const mlx = startAtraMlxStandIn({ toolsMode: "reject" });
    stops.push(() => mlx.stop());
    mlx.reply = (body) => {
      const last = String(body.messages.at(-1).content);
      if (last.includes("<tool_result")) return { items: [{ text: "I wrote hello.txt." }] };
      if (!hasWrite(body)) return { items: [{ text: "ok" }] };
      const call = JSON.stringify({ name: "Write", arguments: { file_path: target, content: CONTENT } });
      return { items: [{ text: `Writing the file.\n<tool_call>\n${call}\n</tool_call>` }] };
    };
    const atrad = await daemonFor("prompt", mlx.url, "qwen2.5-3b");
    const run = await runClaude({ baseUrl: atrad.url, cwd, prompt: "Create hello.txt", args: ["--allowedTools", "Write"], timeoutMs: 90_000 });
    expect({ exit: run.exitCode, result: run.result?.result, stderr: run.stderr.slice(0, 500) }).toMatchObject({ exit: 0, result: "I wrote hello.txt." });
    expect(readFileSync(target, "utf8")).toBe(CONTENT);
    const last = mlx.received.at(-1)!.body.messages.at(-1);
    // The result names the call it answers (its position in the model's turn), not only the tool.
    expect(last.content).toMatch(/^<tool_result call="1" name="Write">\n/);
  }, 120_000);
});
