/**
 * Real clients against Victoria through atrad: the Claude Code CLI headless (what the user
 * runs) and the official Anthropic SDK's stream. The answer must arrive byte-for-byte —
 * the old proxy lost newlines and indentation.
 */
import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { sequence, startVictoriaStandIn } from "../standins/victoria.ts";
import { runClaude } from "../support/claude.ts";
import { atradInFrontOf, victoriaToml } from "../support/gateway.ts";

const ANSWER = [
  "Here is the fix:",
  "",
  "```python",
  "def total(xs):",
  "    result = 0",
  "    for x in xs:",
  "        result += x",
  "    return result",
  "```",
  "",
  "\tTabs, two  spaces, and unicode stay: naïve — ✓ 🚀",
  "",
  "",
  "Two blank lines above.",
].join("\n");

const { victoria, atrad } = await atradInFrontOf({ victoria: startVictoriaStandIn() }, ({ victoria }) => victoriaToml(victoria.url));
victoria.behave = () => ({
  type: "async",
  poll: sequence({ status: "queued" }, { status: "running", stage: "delegating to experts" }, { status: "completed", output: ANSWER }),
});

// Two independent requests, each waiting out Victoria's polling: side by side.
describe.concurrent("real clients with model victoria", () => {
  test("Claude Code CLI (headless) prints Victoria's multi-line answer byte-for-byte", async () => {
    const run = await runClaude({ baseUrl: atrad.url, prompt: "Write a total() function", args: ["--model", "victoria"], timeoutMs: 90_000 });
    if (run.result?.result !== ANSWER) console.error(run.stderr.slice(-2000), run.stdout.slice(-2000));
    expect(run.exitCode).toBe(0);
    expect(run.result?.is_error).toBe(false);
    expect(run.result?.result).toBe(ANSWER);
    const sub = victoria.submissions.find((s) => s.body.goal.includes("Write a total() function"))!;
    // Claude Code's system prompt and its session id reached Victoria.
    expect(sub.body.project_context.length).toBeGreaterThan(1000);
    expect(typeof sub.body.session_id).toBe("string");
    expect(sub.body.tools).toBeUndefined();
  }, 120_000);

  test("the official SDK streams it in order, with the progress as thinking first", async () => {
    const client = new Anthropic({ baseURL: atrad.url, apiKey: "k", maxRetries: 0 });
    const stream = client.messages.stream({ model: "victoria", max_tokens: 1000, messages: [{ role: "user", content: "sdk please" }] });
    const order: string[] = [];
    let text = "";
    stream.on("streamEvent", (e) => order.push(e.type));
    stream.on("text", (t) => (text += t));
    const final = await stream.finalMessage();
    expect(text).toBe(ANSWER);
    expect(order[0]).toBe("message_start");
    expect(order.at(-1)).toBe("message_stop");
    expect(final.content.map((b) => b.type)).toEqual(["thinking", "text"]);
    expect(final.usage.output_tokens).toBeGreaterThan(20);
  }, 30_000);
});
