/**
 * The real Claude Code CLI, headless, with every backend down (their ports refuse
 * connections): atrad answers at once with `x-should-retry: false`, so Claude Code does not
 * spend minutes retrying; it ends with atrad's message, which names the backend and the fix.
 */
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { CLAUDE_BIN, runClaude } from "../support/claude.ts";
import { freePort } from "../support/binary.ts";
import { providerToml } from "../support/daemon.ts";
import { atradInFrontOf } from "../support/gateway.ts";
import { noDefaultServices } from "../support/services.ts";

const ollamaPort = freePort();
// No stand-in: the one backend is down.
const { atrad } = await atradInFrontOf({}, () => `
${providerToml("ollama", "anthropic", `http://127.0.0.1:${ollamaPort}`, 'models = ["qwen3:8b"]')}
[routes]
default = ["ollama/qwen3:8b"]
${noDefaultServices()}
`);

test.skipIf(!existsSync(CLAUDE_BIN))(
  "every backend down: Claude Code ends with atrad's message within 20 s, after few requests",
  async () => {
    // 20 s is the bound a person waits for: a Claude Code still retrying then is killed and fails the test.
    const run = await runClaude({ baseUrl: atrad.url, prompt: "Say hello.", timeoutMs: 20_000 });
    const diagnostics = `exit ${run.exitCode}\nstdout: ${run.stdout.slice(0, 2000)}\nstderr: ${run.stderr.slice(0, 2000)}`;
    const said = `${run.stdout}\n${run.stderr}`;
    if (process.env.ATRAD_DEBUG) console.log(diagnostics, atrad.records.map((r) => r.status));
    expect(run.exitCode, diagnostics).not.toBe(0);
    expect(said, diagnostics).toContain("no backend can answer");
    expect(said, diagnostics).toContain("connection refused");
    expect(said, diagnostics).toContain("atrad status");
    // Not retried: each of Claude Code's calls reached atrad once (it makes a few: title, main).
    const messages = atrad.records.filter((r) => r.status === 503);
    expect(messages.length, diagnostics).toBeGreaterThan(0);
    expect(messages.length, diagnostics).toBeLessThanOrEqual(4);
  },
  30_000,
);
