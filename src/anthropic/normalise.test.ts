import { describe, expect, test } from "bun:test";
import fixture from "../../test/fixtures/claude-code-2.1.330-request.json";
import { compileSchema, readJson } from "../gateway/body.ts";
import { normalise, type Turn } from "./normalise.ts";
import { MessagesRequestSchema, type MessagesRequest } from "./schema.ts";

const req = (messages: unknown[], extra: Record<string, unknown> = {}) => ({ model: "m", max_tokens: 10, messages, ...extra }) as MessagesRequest;
const note = (text: string) => ({ type: "text" as const, text: `<system-reminder>\n${text}\n</system-reminder>` });
const use = (id: string, name: string) => ({ type: "tool_use" as const, id, name, input: {} });
const result = (id: string) => ({ type: "tool_result", tool_use_id: id, content: "ok" });

describe("normalise: turns", () => {
  const cases: Array<{ name: string; messages: unknown[]; want: Turn[] }> = [
    {
      name: "Turns_StringContentBecomesOneTextBlock",
      messages: [{ role: "user", content: "hi" }, { role: "assistant", content: "" }],
      want: [{ role: "user", content: [{ type: "text", text: "hi" }] }, { role: "assistant", content: [{ type: "text", text: "" }] }],
    },
    {
      name: "Turns_SystemNoteAfterUserJoinsThatTurnAtItsEnd",
      messages: [{ role: "user", content: "u1" }, { role: "system", content: [{ type: "text", text: "env" }] }, { role: "user", content: "u2" }],
      want: [
        { role: "user", content: [{ type: "text", text: "u1" }, note("env")] },
        { role: "user", content: [{ type: "text", text: "u2" }] },
      ],
    },
    {
      name: "Turns_SystemNoteBetweenCallsAndResultsGoesAfterTheResults",
      messages: [
        { role: "user", content: "go" },
        { role: "assistant", content: [use("a", "Read")] },
        { role: "system", content: "a.txt changed on disk" },
        { role: "user", content: [result("a"), { type: "text", text: "next" }] },
      ],
      want: [
        { role: "user", content: [{ type: "text", text: "go" }] },
        { role: "assistant", content: [use("a", "Read")] as never },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "a", content: [{ type: "text", text: "ok" }] }, note("a.txt changed on disk"), { type: "text", text: "next" }] as never },
      ],
    },
    {
      name: "Turns_SystemNotesAfterAssistantAtTheEndAreAUserTurn",
      messages: [{ role: "user", content: "go" }, { role: "assistant", content: "done" }, { role: "system", content: "n1" }, { role: "system", content: "n2" }],
      want: [
        { role: "user", content: [{ type: "text", text: "go" }] },
        { role: "assistant", content: [{ type: "text", text: "done" }] },
        { role: "user", content: [note("n1"), note("n2")] },
      ],
    },
    {
      // Claude Code answers in completion order; results of unknown calls stay behind.
      name: "Turns_ResultsFollowTheOrderOfTheirCalls",
      messages: [
        { role: "assistant", content: [use("a", "Read"), use("b", "Read")] },
        { role: "user", content: [result("x"), result("b"), { type: "text", text: "t" }, result("a")] },
      ],
      want: [
        { role: "assistant", content: [use("a", "Read"), use("b", "Read")] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "a", content: [{ type: "text", text: "ok" }] }, { type: "tool_result", tool_use_id: "b", content: [{ type: "text", text: "ok" }] }, { type: "text", text: "t" }, { type: "tool_result", tool_use_id: "x", content: [{ type: "text", text: "ok" }] }] as never },
      ],
    },
    {
      name: "Turns_AlreadyWrappedNoteIsNotWrappedTwice",
      messages: [{ role: "user", content: "go" }, { role: "system", content: "<system-reminder>\nx\n</system-reminder>" }],
      want: [{ role: "user", content: [{ type: "text", text: "go" }, note("x")] }],
    },
    {
      name: "Turns_UnknownBlockKeptWholeAsOther",
      messages: [{ role: "assistant", content: [{ type: "redacted_thinking", data: "zz" }] }],
      want: [{ role: "assistant", content: [{ type: "other", block: { type: "redacted_thinking", data: "zz" } as never }] }],
    },
  ];
  for (const c of cases) test(c.name, () => expect(normalise(req(c.messages)).turns).toEqual(c.want));

  test("Turns_NoSystemTextIsLost (Claude Code's real request)", () => {
    const n = normalise(fixture.body as unknown as MessagesRequest);
    const env = (fixture.body.messages[1]!.content as Array<{ text: string }>)[0]!.text;
    expect(n.turns.map((t) => t.role)).toEqual(["user"]);
    expect(JSON.stringify(n.turns)).toContain(JSON.stringify(env).slice(1, -1));
    expect(n.system.text).not.toContain("# Environment\nYou have been invoked");
  });
});

describe("normalise: system prompt", () => {
  test("System_BillingBlockSetApartWithoutPerRequestFields", () => {
    const n = normalise(req([], { system: [{ type: "text", text: "x-anthropic-billing-header: cc_version=2.1.332; cch=9f3a1; cc_entrypoint=cli; cc_prompt_id=p7;" }, { type: "text", text: "A" }, { type: "text", text: "B" }] }));
    expect(n.system).toEqual({ billing: "x-anthropic-billing-header: cc_version=2.1.332; cc_entrypoint=cli;", blocks: [{ type: "text", text: "A" }, { type: "text", text: "B" }], text: "A\n\nB" });
  });
  test("System_StringAndAbsent", () => {
    expect(normalise(req([], { system: "S" })).system).toEqual({ blocks: [{ type: "text", text: "S" }], text: "S" });
    expect(normalise(req([])).system).toEqual({ blocks: [], text: "" });
  });
});

test("ToolCalls_IndexNamesAndPositions", () => {
  const n = normalise(req([{ role: "user", content: "go" }, { role: "assistant", content: [{ type: "text", text: "t" }, use("a", "Read"), use("b", "Bash")] }, { role: "user", content: [result("b"), result("a")] }, { role: "assistant", content: [use("c", "Edit")] }]));
  expect([...n.toolCalls]).toEqual([
    ["a", { name: "Read", turn: 1, position: 0 }],
    ["b", { name: "Bash", turn: 1, position: 1 }],
    ["c", { name: "Edit", turn: 3, position: 0 }],
  ]);
});

describe("schema: block shapes are checked where they are declared", () => {
  const check = compileSchema(MessagesRequestSchema);
  const cases: Array<[string, unknown, string]> = [
    ["Schema_TextMustBeString", { type: "text", text: 5 }, "messages.0.content.0.text: Expected string"],
    ["Schema_ToolResultPartsMustBeBlocks", { type: "tool_result", tool_use_id: "a", content: [null] }, "messages.0.content.0.content.0: Expected object"],
    ["Schema_UrlImageNeedsUrl", { type: "image", source: { type: "url" } }, "messages.0.content.0.source.url: Expected required property"],
    ["Schema_ToolUseInputMustBeObject", { type: "tool_use", id: "a", name: "x", input: [] }, "messages.0.content.0.input: Expected object"],
    ["Schema_SignatureMustBeString", { type: "thinking", thinking: "", signature: 3 }, "messages.0.content.0.signature: Expected string"],
  ];
  for (const [name, block, message] of cases) {
    test(name, async () => {
      const body = JSON.stringify(req([{ role: "user", content: [block] }]));
      await expect(readJson(new Request("http://x/", { method: "POST", body }), check, 1e6)).rejects.toThrow(message);
    });
  }
  test("Schema_UnknownTypesAndSourcesPassWithTheirFields", async () => {
    const blocks = [{ type: "container_upload", file_id: "f" }, { type: "image", source: { type: "file", file_id: "x" } }];
    const body = JSON.stringify(req([{ role: "user", content: blocks }]));
    const got = await readJson(new Request("http://x/", { method: "POST", body }), check, 1e6);
    expect(got.messages[0]!.content).toEqual(blocks as never);
  });
});
