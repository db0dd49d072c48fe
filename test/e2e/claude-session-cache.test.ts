/**
 * The real Claude Code CLI through a whole session — Write, Read, Bash, Edit, a subagent, an
 * answer, then a second `--continue` turn — against stand-ins that model each server's prefix
 * cache (test/standins/prefix-cache.ts: the server's chat template, two slots, the longest
 * common prefix with a slot's previous prompt and answer), once per kind. Asserted: at least
 * 98 % of the prompt tokens after a slot's first request are served from the cached prefix, and
 * every mid-conversation `system` text Claude Code sent reaches the model's prompt.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PrefixCache } from "../standins/prefix-cache.ts";
import { notes, runSession, stopAll } from "../support/claude-session.ts";
import { ANSWERS, FIXED } from "../support/session-script.ts";

afterAll(stopAll);

describe("a whole Claude Code session keeps the prompt prefix cached on every kind", () => {
  for (const kind of ["openai", "ollama", "anthropic", "prompt"] as const) {
    test.concurrent(kind, async () => {
      const s = await runSession(kind);
      expect(s.runs.map((r) => ({ exit: r.exitCode, result: r.result }))).toEqual([
        { exit: 0, result: ANSWERS.one },
        { exit: 0, result: ANSWERS.two },
      ]);
      expect(readFileSync(join(s.cwd, "notes.txt"), "utf8")).toBe(FIXED);
      // The subagent ran: its own conversation reached the model.
      expect(s.captured.some((c) => JSON.stringify(c.body.messages[0]).includes("TASK-REVIEW"))).toBe(true);

      // Every note Claude Code put mid-conversation reached the model's prompt, in full (a
      // subagent runs beside its parent, so requests are matched by content, not by order).
      expect(s.prompts.length).toBe(s.captured.length);
      const lost = s.captured.flatMap((c) => notes(c.body).filter((t) => !s.prompts.some((p) => p.includes(t.trim()))));
      expect(lost).toEqual([]);
      expect(s.captured.some((c) => notes(c.body).length)).toBe(true);

      const later = s.figures.filter((f) => !f.first);
      expect(later.length).toBeGreaterThanOrEqual(6);
      const share = new PrefixCache().share(s.figures);
      console.log(`${kind}: ${s.figures.length} prompts, ${(100 * share).toFixed(1)} % cached after each slot's first; per prompt: ${later.map((f) => ((100 * f.cached) / f.prompt).toFixed(1)).join(" ")}`);
      expect(share).toBeGreaterThanOrEqual(0.98);
    }, 60_000);
  }
});
