/**
 * Golden whole-exchange fixtures for the ollama kind (in testdata/): Anthropic request →
 * /api/chat request, and recorded NDJSON → Anthropic events (for prompt tools, after the
 * PromptToolsStream). UPDATE_GOLDEN=1 rewrites the expected files; review the diff.
 */
import { describe, expect, test } from "bun:test";
import { normalise } from "../../anthropic/normalise.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { MessagesRequest } from "../../anthropic/schema.ts";
import type { StreamEvent } from "../../anthropic/types.ts";
import { toOllamaChat } from "./request.ts";
import { convertAll } from "../../anthropic/converter.ts";
import { OllamaStreamConverter } from "./stream.ts";
import { toPromptToolsRequest } from "../prompt-tools/request.ts";
import { PromptToolsStream } from "../prompt-tools/stream.ts";
import { CLAUDE_CODE_REQUEST, expectGolden } from "../../../test/support/golden.ts";

const DIR = join(import.meta.dir, "testdata");
const read = (p: string) => readFileSync(p, "utf8");
const golden = (file: string, actual: unknown) => expectGolden(DIR, file, actual);

const claudeCode = JSON.parse(read(CLAUDE_CODE_REQUEST)).body as MessagesRequest;
const roundTrip = JSON.parse(read(join(DIR, "tool-round-trip.anthropic.json"))) as MessagesRequest;

describe("golden: Anthropic request → /api/chat", () => {
  const cases: Array<[string, MessagesRequest, "native" | "prompt"]> = [
    ["claude-code-2.1.330.chat.json", claudeCode, "native"],
    ["claude-code-2.1.330.prompt-tools.chat.json", claudeCode, "prompt"],
    ["tool-round-trip.chat.json", roundTrip, "native"],
    ["tool-round-trip.prompt-tools.chat.json", roundTrip, "prompt"],
  ];
  for (const [file, req, tools] of cases) {
    test(file, () => {
      const input = tools === "prompt" ? toPromptToolsRequest(normalise(req)) : req;
      golden(file, toOllamaChat(normalise(input), "qwen2.5-coder:7b", { numCtx: 32768, nativeTools: tools === "native" }));
    });
  }

  test("claude-code-2.1.330: every Anthropic-only field is gone and the system note stays in place as user text", () => {
    const out = toOllamaChat(normalise(claudeCode), "m", { nativeTools: true }) as unknown as Record<string, unknown>;
    for (const k of ["context_management", "output_config", "metadata", "thinking", "max_tokens", "system", "think"]) expect(k in out).toBe(false);
    const text = JSON.stringify(out);
    expect(text).not.toContain("cache_control");
    expect(text).not.toContain("defer_loading");
    expect(text).not.toContain("x-anthropic-billing-header");
    const messages = out.messages as Array<{ role: string; content: string }>;
    expect(messages.map((m) => m.role)).toEqual(["system", "user"]);
    expect(messages[1]!.content).toContain("\n\n<system-reminder>\n# Environment\n");
    expect((out.tools as unknown[]).length).toBe(11);
  });
});

function replay(ndjson: string, promptTools?: string[]): StreamEvent[] {
  let n = 0;
  let p = 0;
  const conv = new OllamaStreamConverter({ model: "qwen2.5-coder:7b", inputTokens: 500, messageId: "msg_golden", newToolId: () => `toolu_native_${++n}` });
  const events = convertAll(conv, ndjson.split(/(?<=\n)/));
  if (!promptTools) return events;
  return convertAll(new PromptToolsStream(promptTools, () => `toolu_prompt_${++p}`), events);
}

describe("golden: recorded NDJSON → Anthropic events", () => {
  const cases: Array<[string, string[]?]> = [["thinking-then-tool-call"], ["atra-mlx-text"], ["mid-stream-error"], ["prompt-tools-two-calls", ["Write", "Read"]]];
  for (const [name, tools] of cases) {
    test(name, () => golden(`${name}.events.json`, replay(read(join(DIR, `${name}.ndjson`)), tools)));
  }
});
