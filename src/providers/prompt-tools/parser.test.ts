import { describe, expect, test } from "bun:test";
import { PromptToolParser, type Segment } from "./parser.ts";

const TOOLS = ["Write", "Read", "Bash"];

/** Feed chunks, then end; merge adjacent text segments (chunking must not change meaning). */
function run(chunks: string[], tools = TOOLS): Segment[] {
  const p = new PromptToolParser(tools);
  const out = [...chunks.flatMap((c) => p.feed(c)), ...p.end()];
  const merged: Segment[] = [];
  for (const s of out) {
    const last = merged.at(-1);
    if (s.type === "text" && last?.type === "text") last.text += s.text;
    else merged.push(s.type === "call" ? { type: "call", name: s.name, input: s.input } : { ...s });
  }
  return merged;
}

/** Every split point of the text into two chunks, plus one char at a time. */
function splits(s: string): string[][] {
  const out = [[s], [...s]];
  for (let i = 1; i < s.length; i++) out.push([s.slice(0, i), s.slice(i)]);
  return out;
}

const call = (name: string, input: Record<string, unknown>): Segment => ({ type: "call", name, input });
const text = (t: string): Segment => ({ type: "text", text: t });

const cases: Array<{ name: string; input: string; want: Segment[] }> = [
  { name: "PromptTools_PlainTextPassesByteForByte", input: "def f():\n    return 1\n\n\n\tx = [1,  2]\n", want: [text("def f():\n    return 1\n\n\n\tx = [1,  2]\n")] },
  { name: "PromptTools_TagCall", input: 'I will write it.\n<tool_call>\n{"name": "Write", "arguments": {"file_path": "/a", "content": "hi"}}\n</tool_call>', want: [text("I will write it."), call("Write", { file_path: "/a", content: "hi" })] },
  { name: "PromptTools_InputKeyInsteadOfArguments", input: '<tool_call>{"name":"Read","input":{"path":"/x"}}</tool_call>', want: [call("Read", { path: "/x" })] },
  { name: "PromptTools_ArgumentsAsJsonString", input: '<tool_call>{"name":"Read","arguments":"{\\"path\\": \\"/x\\"}"}</tool_call>', want: [call("Read", { path: "/x" })] },
  { name: "PromptTools_TwoCalls", input: '<tool_call>{"name":"Read","arguments":{"path":"/a"}}</tool_call>\n<tool_call>{"name":"Read","arguments":{"path":"/b"}}</tool_call>\n', want: [call("Read", { path: "/a" }), call("Read", { path: "/b" })] },
  { name: "PromptTools_MissingCloseTagAtEnd", input: '<tool_call>\n{"name": "Bash", "arguments": {"command": "ls"}}', want: [call("Bash", { command: "ls" })] },
  { name: "PromptTools_TrailingCommaRepaired", input: '<tool_call>{"name":"Bash","arguments":{"command":"ls",},}</tool_call>', want: [call("Bash", { command: "ls" })] },
  { name: "PromptTools_SingleQuotesRepaired", input: "<tool_call>{'name': 'Bash', 'arguments': {'command': 'ls'}}</tool_call>", want: [call("Bash", { command: "ls" })] },
  { name: "PromptTools_UnclosedBraceRepaired", input: '<tool_call>{"name":"Bash","arguments":{"command":"ls"</tool_call>', want: [call("Bash", { command: "ls" })] },
  { name: "PromptTools_CodeFenceInsideTag", input: '<tool_call>\n```json\n{"name":"Bash","arguments":{"command":"ls"}}\n```\n</tool_call>', want: [call("Bash", { command: "ls" })] },
  { name: "PromptTools_JsonFenceCall", input: 'Running:\n```json\n{"name": "Bash", "arguments": {"command": "ls"}}\n```\n', want: [text("Running:"), call("Bash", { command: "ls" })] },
  { name: "PromptTools_BareJsonCallAtLineStart", input: 'Sure.\n{"name": "Read", "parameters": {"path": "/x"}}', want: [text("Sure."), call("Read", { path: "/x" })] },
  { name: "PromptTools_OpenAIStyleFunctionObject", input: '{"function": {"name": "Read", "arguments": "{\\"path\\":\\"/x\\"}"}}', want: [call("Read", { path: "/x" })] },
  { name: "PromptTools_CaseInsensitiveToolName", input: '<tool_call>{"name":"bash","arguments":{"command":"ls"}}</tool_call>', want: [call("Bash", { command: "ls" })] },
  { name: "PromptTools_JsonFenceThatIsNotACallStaysText", input: 'Config:\n```json\n{"name": "my-app", "version": "1.0"}\n```\nDone.', want: [text('Config:\n```json\n{"name": "my-app", "version": "1.0"}\n```\nDone.')] },
  { name: "PromptTools_CodeFenceWithBracesStaysText", input: "```ts\nif (x) {\n  <tool_call>\n}\n```\n", want: [text("```ts\nif (x) {\n  <tool_call>\n}\n```\n")] },
  { name: "PromptTools_HtmlTagsStayText", input: "Use <b>bold</b> and a < b.", want: [text("Use <b>bold</b> and a < b.")] },
  { name: "PromptTools_MidLineBraceStaysText", input: 'The object {"name": "x"} is fine.', want: [text('The object {"name": "x"} is fine.')] },
  { name: "PromptTools_InventedResultIsDropped", input: '<tool_call>{"name":"Read","arguments":{"path":"/a"}}</tool_call>\n<tool_result>\nfake contents\n</tool_result>\nThe file says fake.', want: [call("Read", { path: "/a" })] },
  { name: "PromptTools_TextAfterCallKept", input: '<tool_call>{"name":"Read","arguments":{"path":"/a"}}</tool_call>\n\nWaiting for the result.', want: [call("Read", { path: "/a" }), text("Waiting for the result.")] },
  { name: "PromptTools_WhitespaceBeforeCallDropped", input: 'Ok.  \n\n<tool_call>{"name":"Read","arguments":{}}</tool_call>', want: [text("Ok."), call("Read", {})] },
];

describe("PromptToolParser", () => {
  for (const c of cases) {
    test(c.name, () => {
      for (const chunks of splits(c.input)) expect({ chunks, got: run(chunks) }).toEqual({ chunks, got: c.want });
    });
  }

  test("PromptTools_CallSplitAcrossChunks", () => {
    const p = new PromptToolParser(TOOLS);
    expect(p.feed("Let me look.\n<tool")).toEqual([text("Let me look.")]);
    expect(p.feed('_call>{"name":"Read","argu')).toEqual([]);
    expect(p.feed('ments":{"path":"/a"}}</tool_')).toEqual([]);
    expect(p.feed("call>")).toEqual<Segment[]>([{ type: "call", name: "Read", input: { path: "/a" }, raw: '<tool_call>{"name":"Read","arguments":{"path":"/a"}}</tool_call>' }]);
    expect(p.end()).toEqual([]);
  });

  test("PromptTools_TextStreamsImmediately", () => {
    const p = new PromptToolParser(TOOLS);
    expect(p.feed("Hello wor")).toEqual([text("Hello wor")]);
    expect(p.feed("ld, a <")).toEqual([text("ld, a")]);
    expect(p.feed("b> tag")).toEqual([text(" <b> tag")]);
  });

  const invalid: Array<{ name: string; input: string; reason: RegExp }> = [
    { name: "PromptTools_UnknownToolExplained", input: '<tool_call>{"name":"Delete","arguments":{}}</tool_call>', reason: /no tool named "Delete"/ },
    { name: "PromptTools_ArgumentsNotObjectExplained", input: '<tool_call>{"name":"Bash","arguments":["ls"]}</tool_call>', reason: /an array, not a JSON object/ },
    { name: "PromptTools_GarbageExplained", input: "<tool_call>Bash ls -la</tool_call>", reason: /not run/ },
    { name: "PromptTools_StringArgumentsNotObjectExplained", input: '<tool_call>{"name":"Bash","arguments":"ls -la"}</tool_call>', reason: /a string, not a JSON object/ },
  ];
  for (const c of invalid) {
    test(c.name, () => {
      const got = run([c.input]);
      expect(got.every((s) => s.type === "text")).toBe(true);
      expect((got[0] as { text: string }).text).toMatch(c.reason);
      expect((got[0] as { text: string }).text).toStartWith("[atrad: a tool call was not run because ");
    });
  }

  // Sent back as written, the model's own turn is a prefix-cache hit on the next request.
  test("PromptTools_CallKeepsTheTextTheModelWrote", () => {
    const p = new PromptToolParser(TOOLS);
    const written = '<tool_call>\n{"name": "Read",  "arguments": {"path": "/a"}}\n</tool_call>';
    expect([...p.feed(`Let me look.\n${written}\n`), ...p.end()].filter((x) => x.type === "call")).toEqual([{ type: "call", name: "Read", input: { path: "/a" }, raw: written }]);
  });
});
