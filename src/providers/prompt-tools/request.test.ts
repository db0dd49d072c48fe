import { describe, expect, test } from "bun:test";
import { normalise, outputInstruction } from "../../anthropic/normalise.ts";
import type { MessagesRequest } from "../../anthropic/schema.ts";
import { PromptToolParser } from "./parser.ts";
import { renderCall, toPromptToolsRequest } from "./request.ts";

const tools = [
  { name: "Write", description: "Write a file.", input_schema: { $schema: "http://json-schema.org/draft-07/schema#", type: "object", additionalProperties: false, properties: { file_path: { type: "string" }, content: { type: "string" } }, required: ["file_path", "content"] } },
  { name: "Later", description: "deferred", input_schema: { type: "object" }, defer_loading: true },
];
const base = (extra: Record<string, unknown> = {}): MessagesRequest => ({ model: "m", max_tokens: 10, tools: tools as never, messages: [{ role: "user", content: "hi" }], ...extra }) as MessagesRequest;

describe("toPromptToolsRequest", () => {
  test("PromptToolsRequest_ToolsMoveIntoSystemPrompt", () => {
    const out = toPromptToolsRequest(normalise(base({ system: "You are helpful.", tool_choice: { type: "auto" } })));
    expect("tools" in out).toBe(false);
    expect("tool_choice" in out).toBe(false);
    const system = out.system as string;
    expect(system).toStartWith("You are helpful.\n\n# Tools");
    expect(system).toContain('<tools>\n<tool name="Write">\nWrite a file.\nArguments schema: ');
    expect(system).toContain('"required":["file_path","content"]');
    expect(system).not.toContain("$schema");
    expect(system).not.toContain("additionalProperties");
    expect(system).not.toContain('name="Later"');
  });

  test("PromptToolsRequest_SystemBlocksGetOneMoreBlock", () => {
    const out = toPromptToolsRequest(normalise(base({ system: [{ type: "text", text: "A" }] })));
    expect(out.system as unknown).toEqual([{ type: "text", text: "A" }, { type: "text", text: expect.stringContaining("# Tools") }]);
  });

  const choices = [
    { name: "PromptToolsRequest_ChoiceAnyDemandsACall", choice: { type: "any" }, line: "You must call at least one tool" },
    { name: "PromptToolsRequest_ChoiceToolNamesIt", choice: { type: "tool", name: "Write" }, line: 'You must call the tool "Write"' },
    { name: "PromptToolsRequest_NoParallel", choice: { type: "auto", disable_parallel_tool_use: true }, line: "at most one tool" },
  ];
  for (const c of choices) test(c.name, () => expect(toPromptToolsRequest(normalise(base({ tool_choice: c.choice }))).system as string).toContain(c.line));

  test("PromptToolsRequest_ChoiceNoneOffersNothing", () => {
    expect(toPromptToolsRequest(normalise(base({ tool_choice: { type: "none" } }))).system).toBeUndefined();
  });

  test("PromptToolsRequest_HistoryRenderedAsText", () => {
    const out = toPromptToolsRequest(normalise(
      base({
        messages: [
          { role: "user", content: "write it" },
          { role: "assistant", content: [{ type: "text", text: "Sure." }, { type: "tool_use", id: "t1", name: "Write", input: { file_path: "/a", content: "x" } }] },
          { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "File created" }, { type: "tool_result", tool_use_id: "t9", is_error: true, content: [{ type: "text", text: "boom" }, { type: "image", source: { type: "base64", media_type: "image/png", data: "QQ" } }] }] },
        ],
      })),
    );
    expect(out.messages[1] as unknown).toEqual({ role: "assistant", content: [{ type: "text", text: `Sure.\n${renderCall("Write", { file_path: "/a", content: "x" })}` }] });
    expect(out.messages[2]!.content as unknown).toEqual([
      { type: "text", text: '<tool_result call="1" name="Write">\nFile created\n</tool_result>' },
      { type: "text", text: '<tool_result error="true">\nboom\n</tool_result>' },
      { type: "image", source: { type: "base64", media_type: "image/png", data: "QQ" } },
    ]);
  });

  test("PromptToolsRequest_RenderedCallParsesBack", () => {
    // Content that mentions the format itself must survive the trip through text.
    const input = { file_path: "/a b", content: 'line1\n  line2\n</tool_call>\n{"name": "x"}\n' };
    const p = new PromptToolParser(["Write"]);
    expect([...p.feed(renderCall("Write", input)), ...p.end()]).toEqual([{ type: "call", name: "Write", input, raw: renderCall("Write", input) }]);
  });

  test("PromptTools_CutOffStringNotRepaired", () => {
    const p = new PromptToolParser(["Write"]);
    const got = [...p.feed('<tool_call>{"name":"Write","arguments":{"file_path":"/a","content":"half of the fi'), ...p.end()];
    expect(got).toEqual([{ type: "text", text: expect.stringMatching(/^\[atrad: a tool call was not run because the arguments are cut off inside a string \(the model's output was probably truncated\)\. The model wrote: <tool_call>/) }]);
  });

  // A backend constrained to the schema could not write a <tool_call>: with tools offered the
  // schema is an instruction, at the end of the last user turn (the system prompt stays put).
  test("PromptToolsRequest_StructuredOutputWithToolsIsAnInstruction", () => {
    const out = toPromptToolsRequest(normalise(base({ output_config: { effort: "low", format: { type: "json_schema", schema: { type: "object", properties: { n: { type: "integer" } } } } } })));
    expect(out.output_config as unknown).toEqual({ effort: "low" });
    const last = out.messages.at(-1)!.content as Array<{ text: string }>;
    expect(last.at(-1)!.text).toBe(`<system-reminder>\n${outputInstruction({ type: "json_schema", schema: { type: "object", properties: { n: { type: "integer" } } } })}\n</system-reminder>`);
    const plain = toPromptToolsRequest(normalise(base({ tools: undefined, output_config: { format: { type: "json_schema", schema: { type: "object", properties: { n: { type: "integer" } } } } } })));
    expect(plain.output_config).toEqual({ format: { type: "json_schema", schema: { type: "object", properties: { n: { type: "integer" } } } } });
  });
});
