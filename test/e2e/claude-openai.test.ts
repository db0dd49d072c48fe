/**
 * The real Claude Code CLI, headless, through atrad's `openai` kind to the mlx_lm.server
 * stand-in: the model asks to Write a file, Claude Code runs the tool and sends the result
 * back, the model answers. The file must exist afterwards with the exact content.
 */
import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startOpenAIStandIn } from "../standins/mlx-lm.ts";
import { CLAUDE_BIN, runClaude } from "../support/claude.ts";
import { providerToml } from "../support/daemon.ts";
import { atradInFrontOf } from "../support/gateway.ts";

const MODEL = "mlx-community/Qwen2.5-Coder-7B-Instruct-4bit";
const { mlx, atrad } = await atradInFrontOf({ mlx: startOpenAIStandIn({ flavor: "mlx" }) }, ({ mlx }) => `
${providerToml("mlxlm", "openai", mlx.url)}
[routes]
default = ["mlxlm/${MODEL}"]
`);

/** Whether the tool results of the model's last turn are already in the conversation. */
function answeredToolCall(body: any): string | undefined {
  const messages: any[] = body.messages ?? [];
  const lastAssistant = messages.findLastIndex((m) => m.role === "assistant" && m.tool_calls?.length);
  if (lastAssistant < 0) return undefined;
  return messages.slice(lastAssistant + 1).find((m) => m.role === "tool")?.content;
}

test.skipIf(!existsSync(CLAUDE_BIN))(
  "Claude Code writes a file through the openai kind (tool round trip)",
  async () => {
    const cwd = mkdtempSync(join(tmpdir(), "atrad-claude-openai-"));
    const target = join(cwd, "hello.txt");
    const content = "hello from atrad\n\n    indented line\n";
    mlx.reply = (body) => {
      const result = answeredToolCall(body);
      if (result !== undefined) return { items: [{ text: `Done. The tool said: ${result.split("\n")[0]}` }] };
      // Background calls (titles, summaries) carry no Write tool: answer them plainly.
      if (!body.tools?.some((t: any) => t.function?.name === "Write")) return { items: [{ text: "Hello file" }] };
      return { items: [{ text: "Creating the file." }, { tool: { name: "Write", arguments: JSON.stringify({ file_path: target, content }) } }] };
    };
    const run = await runClaude({ baseUrl: atrad.url, prompt: "Create hello.txt with a greeting.", cwd, args: ["--allowedTools", "Write"], timeoutMs: 120_000 });
    const diagnostics = `exit ${run.exitCode}\nstdout: ${run.stdout.slice(0, 2000)}\nstderr: ${run.stderr.slice(0, 2000)}`;
    if (process.env.ATRAD_DEBUG) console.log(diagnostics, mlx.received.map((r) => [r.body?.model, r.body?.messages?.map((m: any) => m.role).join(","), r.body?.tools?.length]));
    expect(run.exitCode, diagnostics).toBe(0);
    expect(run.result?.is_error, diagnostics).toBe(false);
    expect(existsSync(target), diagnostics).toBe(true);
    expect(readFileSync(target, "utf8")).toBe(content);
    expect(run.result?.result).toContain("Done. The tool said:");
    // The Write call went out as an OpenAI tool, and its result came back as a role:tool message.
    const withTool = mlx.received.filter((r) => r.body?.tools?.some((t: any) => t.function?.name === "Write"));
    expect(withTool.length).toBeGreaterThanOrEqual(2);
    const followUp = withTool.find((r) => answeredToolCall(r.body) !== undefined)!;
    expect(followUp.body.messages.some((m: any) => m.role === "tool")).toBe(true);
    expect(followUp.headers["content-length"]).toBeDefined();
  },
  150_000,
);
