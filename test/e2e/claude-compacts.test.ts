/**
 * The real Claude Code CLI told the truth about a small window: a Read result pushes the
 * conversation past the model's 20k tokens, atrad refuses it with Anthropic's own
 * `prompt is too long: N tokens > M maximum` 400 before it reaches the server, and Claude
 * Code compacts (a reactive compaction, sent through the `compaction` route to a model with a
 * larger window) and carries on with the summary, instead of retrying the same request.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startOpenAIStandIn } from "../standins/mlx-lm.ts";
import { runClaude } from "../support/claude.ts";
import { recordingProxy, stopAll } from "../support/claude-session.ts";
import { startTestDaemon } from "../support/daemon.ts";

afterAll(stopAll);

test("Claude Code compacts on atrad's 'prompt is too long', then finishes", async () => {
  const cwd = mkdtempSync(join(tmpdir(), "atrad-compact-"));
  const big = join(cwd, "big.txt");
  writeFileSync(big, Array.from({ length: 3000 }, (_, i) => `row ${i} of the big file`).join("\n"));
  const small = startOpenAIStandIn({ flavor: "piecewise", models: ["qwen"] });
  const large = startOpenAIStandIn({ flavor: "piecewise", models: ["qwen-long"] });
  // Read the file; once its content (or the summary of it) is in the conversation, answer.
  const known = (body: any) => body.messages.some((m: any) => m.role === "tool") || JSON.stringify(body.messages).includes("3000 numbered rows");
  small.reply = (body) => (known(body) ? { items: [{ text: "It is a list of rows." }] } : { items: [{ tool: { name: "Read", arguments: JSON.stringify({ file_path: big }) } }] });
  large.reply = () => ({ items: [{ text: "<summary>The user asked about big.txt; it was read: 3000 numbered rows.</summary>" }] });
  const atrad = await startTestDaemon(`
[providers.small]
kind = "openai"
url = "${small.url}"
context_window = 20000
[providers.large]
kind = "openai"
url = "${large.url}"
context_window = 200000
[routes]
default = ["small/qwen"]
compaction = ["large/qwen-long"]
`);
  const proxy = recordingProxy(atrad.url);
  try {
    const run = await runClaude({ baseUrl: proxy.url, cwd, prompt: "Read big.txt and tell me what it is.", args: ["--allowedTools", "Read"], env: { CLAUDE_CODE_GATEWAY_HINT_HEADERS: "1" }, timeoutMs: 50_000 });
    expect({ exit: run.exitCode, result: run.result?.result }).toEqual({ exit: 0, result: "It is a list of rows." });

    const seen = atrad.records.map((r) => `${r.request_class} ${r.status}`);
    // The overflowing turn was refused once, compacted through the compaction route, and the
    // conversation went on from the summary.
    const refused = seen.indexOf("main 400");
    expect(refused).toBeGreaterThan(0);
    expect(seen.slice(refused + 1)).toContain("compaction 200");
    expect(seen.at(-1)).toBe("main 200");
    expect(seen.filter((s) => s === "main 400")).toHaveLength(1);
    expect(atrad.records.filter((r) => r.request_class === "compaction" && r.status === 200).every((r) => r.target === "large/qwen-long")).toBe(true);
    // The refused prompt never reached the small model; the last one is the compacted conversation.
    const tooLong = proxy.captured[refused]!;
    expect(small.received.some((r) => r.body.messages.length === tooLong.body.messages.length + 1)).toBe(false);
    expect(proxy.captured.at(-1)!.body.messages.length).toBeLessThan(tooLong.body.messages.length);
  } finally {
    await atrad.stop();
    await small.stop();
    await large.stop();
  }
}, 60_000);
