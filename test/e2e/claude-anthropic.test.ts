/**
 * The default path: the real Claude Code CLI through the `anthropic` kind (Ollama ≥ 0.14's
 * native Messages API, as the stand-in reproduces it) finishes a Write round trip, and the
 * tool result reaches the upstream as Claude Code sent it.
 */
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startOllamaStandIn } from "../standins/ollama.ts";
import { runClaude } from "../support/claude.ts";
import { atradInFrontOf, ollamaToml } from "../support/gateway.ts";

const CONTENT = "from qwen via atrad\n\n    indented\n";
const { ollama, atrad } = await atradInFrontOf({ ollama: startOllamaStandIn() }, ({ ollama }) => ollamaToml(ollama.url));

test("Claude Code CLI: Write round trip through Ollama's native API", async () => {
  const cwd = mkdtempSync(join(tmpdir(), "atrad-e2e-anthropic-"));
  const target = join(cwd, "note.txt");
  ollama.reply = (body) => {
    const last = body.messages.at(-1);
    const result = Array.isArray(last.content) ? last.content.find((b: any) => b.type === "tool_result") : undefined;
    if (result) return { items: [{ text: "Done: note.txt written." }] };
    if (!(body.tools ?? []).some((t: any) => t.name === "Write")) return { items: [{ text: "ok" }] };
    return { items: [{ text: "Writing it." }, { tool: { id: "toolu_write_1", name: "Write", input: { file_path: target, content: CONTENT } } }] };
  };
  const run = await runClaude({ baseUrl: atrad.url, cwd, prompt: "Write note.txt", args: ["--allowedTools", "Write"], timeoutMs: 90_000 });
  expect({ exit: run.exitCode, result: run.result?.result, stderr: run.stderr.slice(0, 500) }).toMatchObject({ exit: 0, result: "Done: note.txt written." });
  expect(readFileSync(target, "utf8")).toBe(CONTENT);
  // The tool result went back upstream inside Claude Code's own message, id intact.
  const withResult = ollama.received.find((r) => JSON.stringify(r.body.messages.at(-1)).includes('"tool_use_id":"toolu_write_1"'));
  expect(withResult).toBeDefined();
  expect(withResult!.body.model).toBe("qwen2.5-coder:32b");
}, 120_000);
