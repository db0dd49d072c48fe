import { describe, expect, test } from "bun:test";
import { RawCalls, sameInput } from "./raw-calls.ts";

describe("RawCalls", () => {
  test("RawCalls_RecallsTheTextForTheSameInput", () => {
    const m = new RawCalls();
    m.remember("t1", { a: 1, b: [1, { c: "x" }] }, '{"a": 1, "b": [1, {"c": "x"}]}');
    expect(m.recall("t1", { b: [1, { c: "x" }], a: 1 })).toBe('{"a": 1, "b": [1, {"c": "x"}]}');
    expect(m.recall("t1", { a: 2, b: [1, { c: "x" }] })).toBeUndefined();
    expect(m.recall("t2", { a: 1 })).toBeUndefined();
  });

  test("RawCalls_BoundedInEntriesOldestForgottenFirst", () => {
    const m = new RawCalls(2);
    m.remember("a", {}, "{}");
    m.remember("b", {}, "{}");
    m.recall("a", {}); // a is now the most recently used
    m.remember("c", {}, "{}");
    expect([m.size, m.recall("a", {}), m.recall("b", {}), m.recall("c", {})]).toEqual([2, "{}", undefined, "{}"]);
  });

  test("RawCalls_BoundedInBytes", () => {
    const m = new RawCalls(100, 64);
    m.remember("big", {}, "x".repeat(100));
    expect(m.size).toBe(0);
    for (let i = 0; i < 10; i++) m.remember(`t${i}`, {}, "{}");
    expect(m.size).toBeLessThan(10);
    expect(m.recall("t9", {})).toBe("{}");
  });
});

describe("sameInput", () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>, boolean]> = [
    ["SameInput_KeyOrderDoesNotMatter", { a: 1, b: 2 }, { b: 2, a: 1 }, true],
    ["SameInput_ClaudeCodesAddedReplaceAllFalse", { file_path: "/a", old_string: "x" }, { replace_all: false, file_path: "/a", old_string: "x" }, true],
    ["SameInput_AddedTrueIsAChange", { file_path: "/a" }, { replace_all: true, file_path: "/a" }, false],
    ["SameInput_MissingKeyIsAChange", { a: 1, b: 2 }, { a: 1 }, false],
    ["SameInput_NestedValuesCompared", { a: { b: [1, 2] } }, { a: { b: [2, 1] } }, false],
  ];
  for (const [name, generated, sent, want] of cases) test(name, () => expect(sameInput(generated, sent)).toBe(want));
});
