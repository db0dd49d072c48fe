/** `atrad statusline` fed the JSON Claude Code writes on stdin names the target that served that session. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../src/cli/index.ts";
import { formatStatusline } from "../../src/cli/statusline.ts";
import { RecordBuilder } from "../../src/gateway/record.ts";
import { startOllamaStandIn } from "../standins/ollama.ts";
import { atradInFrontOf, ollamaToml } from "../support/gateway.ts";
import { post } from "../support/sse.ts";

const input = readFileSync(join(import.meta.dir, "../fixtures/statusline-input.json"), "utf8");
const sessionId = JSON.parse(input).session_id as string;
const { atrad } = await atradInFrontOf({ ollama: startOllamaStandIn() }, ({ ollama }) => ollamaToml(ollama.url));

async function statusline(url: string) {
  let out = "";
  const code = await runCli(["statusline", "--url", url, "--plain"], { out: (t) => (out += t), err: () => {}, env: { ATRAD_HOME: "/nonexistent" }, isTTY: false, stdin: async () => input });
  return { code, out: out.trim() };
}

describe("atrad statusline", () => {
  test("typed in a terminal: explains itself on stderr, never waits on stdin, prints the daemon's line", async () => {
    let out = "";
    let err = "";
    const neverEnds = () => new Promise<string>(() => {});
    const io = { out: (t: string) => void (out += t), err: (t: string) => void (err += t), env: { ATRAD_HOME: "/nonexistent" }, isTTY: true, stdinIsTTY: true, stdin: neverEnds };
    expect(await runCli(["statusline", "--url", atrad.url, "--plain"], io)).toBe(0);
    expect(err).toContain("the command for Claude Code's statusLine setting");
    expect(out).toBe("atrad ● waiting for the first request\n");
  });

  test("names the served target of this session, its health and ttft", async () => {
    expect((await statusline(atrad.url)).out).toBe("atrad ● waiting for the first request");
    await post(`${atrad.url}/v1/messages`, { model: "claude-opus-5-5", max_tokens: 5, stream: true, messages: [{ role: "user", content: "hi" }] }, { "x-claude-code-session-id": sessionId }).then((r) => r.text());
    // Another session's request must not show up in this one's line.
    await post(`${atrad.url}/v1/messages`, { model: "claude-haiku-5", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }, { "x-claude-code-session-id": "other" }).then((r) => r.text());
    const { code, out } = await statusline(atrad.url);
    expect(code).toBe(0);
    expect(out).toMatch(/^atrad ● ollama\/qwen2\.5-coder:32b · ttft \d+ms · cache 0 %$/);
  });

  test("says so when the daemon is not running, and still exits 0", async () => {
    const { code, out } = await statusline("http://127.0.0.1:9");
    expect(code).toBe(0);
    expect(out).toBe("atrad ○ not running");
  });

  test("formatStatusline: fallbacks and errors are visible", () => {
    const r = new RecordBuilder("id", "s", "claude-opus-5-5", true).finish(529);
    r.target = null;
    r.fallbacks = [{ target: "ollama/a", reason: "down" }];
    expect(formatStatusline({ last: r, provider_state: "down" }, true)).toBe("atrad ○ claude-opus-5-5 · after ollama/a · error 529");
  });
});
