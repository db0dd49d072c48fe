import { describe, expect, test } from "bun:test";
import { requestClassOf } from "./classify.ts";

describe("requestClassOf", () => {
  const cases: Array<[string, Record<string, string>, string]> = [
    ["no hints: main", {}, "main"],
    ["hint main", { "x-claude-code-request-class": "main" }, "main"],
    ["hint subagent", { "x-claude-code-request-class": "subagent" }, "subagent"],
    ["hint workflow counts as a subagent", { "x-claude-code-request-class": "workflow" }, "subagent"],
    ["hint compaction", { "x-claude-code-request-class": "compaction" }, "compaction"],
    ["hint auxiliary is background", { "x-claude-code-request-class": "auxiliary" }, "background"],
    ["the hint wins over agent ids", { "x-claude-code-request-class": "main", "x-claude-code-parent-agent-id": "a1" }, "main"],
    ["an unknown hint falls back to the other rules", { "x-claude-code-request-class": "future-thing", "x-claude-code-parent-agent-id": "a1" }, "subagent"],
    ["a compaction header without a class", { "x-claude-code-compaction": "auto" }, "compaction"],
    ["a parent agent without hints: a subagent", { "x-claude-code-agent-id": "a2", "x-claude-code-parent-agent-id": "a1" }, "subagent"],
    ["an agent id alone is the main agent", { "x-claude-code-agent-id": "a1" }, "main"],
  ];
  for (const [name, headers, want] of cases) test(name, () => expect(requestClassOf(new Headers(headers))).toBe(want as never));
});
