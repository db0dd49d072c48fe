/**
 * Golden files: the expected output of a pure converter, kept as JSON beside it (in its
 * `testdata/`). UPDATE_GOLDEN=1 rewrites them from what the code gives now; review the diff
 * before committing it.
 */
import { expect } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** `actual` equals the JSON in `dir/file` (as JSON: what a client would parse). */
export function expectGolden(dir: string, file: string, actual: unknown): void {
  const path = join(dir, file);
  const text = `${JSON.stringify(actual, null, 2)}\n`;
  if (process.env.UPDATE_GOLDEN === "1") writeFileSync(path, text);
  if (!existsSync(path)) throw new Error(`missing golden file ${file}: run with UPDATE_GOLDEN=1 and review it`);
  expect(JSON.parse(text)).toEqual(JSON.parse(readFileSync(path, "utf8")));
}

/** The Claude Code request captured from the real CLI (test/fixtures), as it reached the gateway. */
export const CLAUDE_CODE_REQUEST = join(import.meta.dir, "../fixtures/claude-code-2.1.330-request.json");
