import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { estimateTokens } from "../../tokens/count.ts";
import { limitText, StopScanner } from "./stop.ts";

describe("StopScanner", () => {
  const cases: Array<{ name: string; stops: string[]; pieces: string[]; text: string; matched: string | null }> = [
    { name: "Stop_NoneGivenPassesEverything", stops: [], pieces: ["a", "END"], text: "aEND", matched: null },
    { name: "Stop_SplitAcrossPieces", stops: ["END"], pieces: ["one E", "N", "D two"], text: "one ", matched: "END" },
    { name: "Stop_EarliestOfSeveral", stops: ["###", "\n\n"], pieces: ["a\n\nb###"], text: "a", matched: "\n\n" },
    { name: "Stop_HeldPrefixThatNeverCompletesIsText", stops: ["END"], pieces: ["the EN", "d"], text: "the ENd", matched: null },
    { name: "Stop_NothingAfterTheMatch", stops: ["x"], pieces: ["ax", "more"], text: "a", matched: "x" },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const s = new StopScanner(c.stops);
      const text = c.pieces.map((p) => s.push(p)).join("") + s.end();
      expect({ text, matched: s.matched }).toEqual({ text: c.text, matched: c.matched });
    });
  }

  test("Stop_AnySplitGivesTheSameCut (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.array(fc.string({ minLength: 1, maxLength: 3 }), { maxLength: 3 }), fc.array(fc.nat({ max: 40 })), (text, stops, cuts) => {
        const whole = limitText(text, stops, 1e9);
        const s = new StopScanner(stops);
        const points = [0, ...cuts.map((c) => Math.min(c, text.length)).sort((a, b) => a - b), text.length];
        let out = "";
        for (let i = 1; i < points.length; i++) out += s.push(text.slice(points[i - 1], points[i]));
        out += s.end();
        expect({ text: out, matched: s.matched }).toEqual({ text: whole.text, matched: whole.stopSequence });
      }),
    );
  });
});

describe("limitText", () => {
  test("Limit_StopSequenceCutsAndIsNamed", () => expect(limitText("hello STOP world", ["STOP"], 100)).toEqual({ text: "hello ", stopReason: "stop_sequence", stopSequence: "STOP" }));
  test("Limit_MaxTokensKeepsTheLongestPrefixWithinBudget", () => {
    const text = "one two three four five six seven eight nine ten 🚀🚀";
    const got = limitText(text, [], 4);
    expect(got.stopReason).toBe("max_tokens");
    expect(estimateTokens(got.text)).toBeLessThanOrEqual(4);
    expect(estimateTokens(text.slice(0, got.text.length + 1))).toBeGreaterThan(4);
    expect(text.startsWith(got.text)).toBe(true);
  });
  test("Limit_WithinBudgetIsEndTurn", () => expect(limitText("hi", ["x"], 10)).toEqual({ text: "hi", stopReason: "end_turn", stopSequence: null }));
});
