import { describe, expect, test } from "bun:test";
import { endsInsideString, repairToolArguments, unusableToolCallText } from "./repair.ts";

describe("repairToolArguments", () => {
  const ok: Array<[string, unknown, Record<string, unknown>, boolean]> = [
    ["Repair_ValidJson", '{"path":"/tmp/a","n":1}', { path: "/tmp/a", n: 1 }, false],
    ["Repair_EmptyStringIsNoArguments", "   ", {}, false],
    ["Repair_UndefinedIsNoArguments", undefined, {}, false],
    ["Repair_ObjectPassesThrough", { a: [1] }, { a: [1] }, false],
    ["Repair_CodeFence", '```json\n{"command": "ls -la"}\n```', { command: "ls -la" }, true],
    ["Repair_BareCodeFence", '```\n{"a": 1}\n```', { a: 1 }, true],
    ["Repair_TrailingComma", '{"a": 1, "b": [1, 2,],}', { a: 1, b: [1, 2] }, true],
    ["Repair_SingleQuotes", "{'file_path': '/tmp/x', 'content': 'hi'}", { file_path: "/tmp/x", content: "hi" }, true],
    ["Repair_PythonLiterals", "{'flag': True, 'none': None}", { flag: true, none: null }, true],
    ["Repair_UnclosedBrace", '{"a": {"b": 1}', { a: { b: 1 } }, true],
    ["Repair_UnquotedKeys", "{path: \"/x\"}", { path: "/x" }, true],
    ["Repair_DoubleEncoded", JSON.stringify(JSON.stringify({ a: 1 })), { a: 1 }, true],
    ["Repair_RawNewlineInString", '{"content": "line1\nline2"}', { content: "line1\nline2" }, true],
  ];
  for (const [name, raw, input, repaired] of ok) {
    test(name, () => {
      expect(repairToolArguments(raw)).toEqual({ ok: true, input, repaired });
    });
  }

  const bad: Array<[string, unknown, RegExp]> = [
    ["Repair_ArrayIsRefused", "[1, 2]", /an array/],
    ["Repair_NumberIsRefused", "42", /a number/],
    ["Repair_ProseIsRefused", "I will now call the tool", /not a JSON object|could not be repaired/],
    ["Repair_TruncatedStringIsRefused", '{"file_path": "/tmp/x", "content": "half a fi', /cut off/],
    ["Repair_TrailingGarbageIsRefused", '{"a": "x"} and then', /could not be repaired/],
    ["Repair_NumberValueIsRefused", 7, /a number/],
  ];
  for (const [name, raw, reason] of bad) {
    test(name, () => {
      const r = repairToolArguments(raw);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(reason);
    });
  }
});

describe("endsInsideString", () => {
  test("Repair_EscapedQuoteStaysInside", () => {
    expect(endsInsideString('{"a": "say \\"hi')).toBe(true);
    expect(endsInsideString('{"a": "say \\"hi\\""')).toBe(false);
    expect(endsInsideString('{"a": "x\\\\"')).toBe(false);
    expect(endsInsideString("{'content': 'say \"hi'}")).toBe(false);
    expect(endsInsideString("{'content': 'cut")).toBe(true);
  });
});

describe("unusableToolCallText", () => {
  test("Repair_ExplanationNamesToolReasonAndRaw", () => {
    const t = unusableToolCallText("Write", "{oops", "it broke");
    expect(t).toContain('tool "Write"');
    expect(t).toContain("it broke");
    expect(t).toContain("{oops");
  });
  test("Repair_ExplanationCutsLongArguments", () => {
    const t = unusableToolCallText("", "x".repeat(5000), "r");
    expect(t).toContain("3000 more characters");
    expect(t).toContain("a tool (with no name)");
  });
});
