/**
 * The real Claude Code CLI, headless, finishes a task of three tool round trips — Write a
 * file, Read it back, run Bash on it — through the openai kind (mlx_lm.server, native tool
 * calls) and through prompt tools (the ATRA MLX server, which has no tools). The stand-in
 * "model" is a script that reads what it received: how many results the conversation holds
 * decides the next call, and its last answer quotes the Read and Bash results it was given,
 * so every result must have come back, in order, to the right call.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAtraMlxStandIn } from "../standins/atra-mlx.ts";
import { startOpenAIStandIn } from "../standins/mlx-lm.ts";
import { CLAUDE_BIN, runClaude } from "../support/claude.ts";
import { startTestDaemon } from "../support/daemon.ts";
import { noDefaultServices } from "../support/services.ts";

const CONTENT = "alpha\n  beta (indented)\ngamma ✓\n";
const stops: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

type Call = { name: string; input: Record<string, unknown> };

/** The task's script: given the results so far (in order), the next call or the answer. */
function next(results: string[], target: string): { text: string; call?: Call } {
  switch (results.length) {
    case 0:
      return { text: "Writing the file.", call: { name: "Write", input: { file_path: target, content: CONTENT } } };
    case 1:
      return { text: "Reading it back.", call: { name: "Read", input: { file_path: target } } };
    case 2:
      return { text: "Counting its lines.", call: { name: "Bash", input: { command: `wc -l < '${target}'`, description: "Count the lines of the file" } } };
    default: {
      const read = results[1]!.includes("beta (indented)") ? "beta seen" : `read wrong: ${results[1]!.slice(0, 200)}`;
      return { text: `Done: ${read}; lines=${results[2]!.trim()}` };
    }
  }
}

/** A stand-in whose replies come from `model`: the results it has read so far, or undefined for a call without the task's tools. */
interface Path {
  name: string;
  start(model: (results: string[] | undefined) => { text: string; call?: Call }): { url: string; stop(): Promise<void> };
  toml(url: string): string;
}

const RESULT = /<tool_result call="\d+" name="[^"]*"[^>]*>\n([\s\S]*?)\n<\/tool_result>/g;
const MLX_MODEL = "mlx-community/Qwen2.5-Coder-7B-Instruct-4bit";

const PATHS: Path[] = [
  {
    name: "openai kind (mlx_lm.server, native tool calls)",
    start(model) {
      const mlx = startOpenAIStandIn({ flavor: "mlx", models: [MLX_MODEL] });
      mlx.reply = (body) => {
        const tools = body.tools?.some((t: any) => t.function?.name === "Write");
        const results = (body.messages as any[]).filter((m) => m.role === "tool").map((m) => (typeof m.content === "string" ? m.content : m.content.map((p: any) => p.text ?? "").join("")));
        const turn = model(tools ? results : undefined);
        return { items: [{ text: turn.text }, ...(turn.call ? [{ tool: { name: turn.call.name, arguments: JSON.stringify(turn.call.input) } }] : [])] };
      };
      return mlx;
    },
    toml: (url) => `[providers.mlxlm]\nkind = "openai"\nurl = "${url}"\n[routes]\ndefault = ["mlxlm/${MLX_MODEL}"]`,
  },
  {
    name: "prompt tools (ATRA MLX via the ollama kind, no tool support)",
    start(model) {
      const mlx = startAtraMlxStandIn({ toolsMode: "reject" });
      mlx.reply = (body) => {
        const messages = body.messages as Array<{ role: string; content: string }>;
        const tools = String(messages[0]?.content ?? "").includes('<tool name="Write">');
        const results = messages.filter((m) => m.role === "user").flatMap((m) => [...m.content.matchAll(RESULT)].map((r) => r[1]!));
        const turn = model(tools ? results : undefined);
        const call = turn.call ? `\n<tool_call>\n${JSON.stringify({ name: turn.call.name, arguments: turn.call.input })}\n</tool_call>` : "";
        return { items: [{ text: `${turn.text}${call}` }] };
      };
      return mlx;
    },
    toml: (url) => `[providers.local]\nkind = "ollama"\nurl = "${url}"\ntools = "prompt"\n[routes]\ndefault = ["local/qwen2.5-3b"]`,
  },
];

// Each path has its own stand-in, daemon and cwd: they run side by side.
describe.concurrent.skipIf(!existsSync(CLAUDE_BIN))("Claude Code CLI: Write, Read, Bash in three round trips", () => {
  test.each(PATHS.map((p) => [p.name, p] as const))("%s", async (_name, path) => {
    const cwd = mkdtempSync(join(tmpdir(), "atrad-e2e-three-"));
    const target = join(cwd, "notes.txt");
    const calls: string[] = [];
    const server = path.start((results) => {
      // Background calls (titles, summaries) carry no tools: answer them plainly.
      if (!results) return { text: "Notes task" };
      const turn = next(results, target);
      if (turn.call) calls.push(turn.call.name);
      return turn;
    });
    stops.push(() => server.stop());
    const atrad = await startTestDaemon(`${path.toml(server.url)}\n${noDefaultServices()}`);
    stops.push(() => atrad.stop());
    const run = await runClaude({ baseUrl: atrad.url, cwd, prompt: "Write notes.txt, read it back, then count its lines.", args: ["--allowedTools", "Write,Read,Bash"], timeoutMs: 90_000 });
    const diagnostics = `exit ${run.exitCode}\nstdout: ${run.stdout.slice(0, 2000)}\nstderr: ${run.stderr.slice(0, 2000)}`;
    expect(run.exitCode, diagnostics).toBe(0);
    expect(readFileSync(target, "utf8")).toBe(CONTENT);
    expect(calls, diagnostics).toEqual(["Write", "Read", "Bash"]);
    expect(run.result?.result, diagnostics).toBe("Done: beta seen; lines=3");
  }, 120_000);
});
