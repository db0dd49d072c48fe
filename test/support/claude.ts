/**
 * Run the real Claude Code CLI headless (`claude -p … --output-format json`) against atrad.
 * HOME is a fresh temp dir so the user's settings never leak in; nonessential traffic is off
 * because the test machine has no network beyond loopback.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const CLAUDE_BIN = resolve(import.meta.dir, "../../node_modules/.bin/claude");

export interface ClaudeRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The parsed `--output-format json` result (undefined when stdout was not JSON). */
  result?: { result?: string; is_error?: boolean; num_turns?: number; subtype?: string; [k: string]: unknown };
  home: string;
  cwd: string;
}

export async function runClaude(opts: {
  baseUrl: string;
  prompt: string;
  args?: string[];
  cwd?: string;
  home?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}): Promise<ClaudeRun> {
  const home = opts.home ?? mkdtempSync(join(tmpdir(), "atrad-claude-home-"));
  const cwd = opts.cwd ?? mkdtempSync(join(tmpdir(), "atrad-claude-cwd-"));
  const proc = Bun.spawn([CLAUDE_BIN, "-p", opts.prompt, "--output-format", "json", ...(opts.args ?? [])], {
    cwd,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home,
      ANTHROPIC_BASE_URL: opts.baseUrl,
      ANTHROPIC_API_KEY: "atrad-test",
      DISABLE_TELEMETRY: "1",
      DISABLE_AUTOUPDATER: "1",
      DISABLE_ERROR_REPORTING: "1",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      ...opts.env,
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: opts.timeoutMs ?? 60_000,
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  let result: ClaudeRun["result"];
  try {
    result = JSON.parse(stdout);
  } catch {}
  return { exitCode, stdout, stderr, result, home, cwd };
}
