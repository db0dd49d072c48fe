import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { countTokens } from "gpt-tokenizer/encoding/cl100k_base";
import { countRequestTokens, countTextTokens, estimateRequestTokens, estimateTokens, releaseTokenizer } from "./count.ts";
import { MAX_PIECE } from "./bpe.ts";

const root = join(import.meta.dir, "../..");
const fixture = JSON.parse(readFileSync(join(root, "test/fixtures/claude-code-2.1.330-request.json"), "utf8"));
// The oracle: gpt-tokenizer's own cl100k count, with special-token text counted as text.
const oracle = (s: string) => countTokens(s, { disallowedSpecial: new Set() });
const seeded = (alphabet: string, n: number) => {
  let x = 42;
  let s = "";
  for (let i = 0; i < n; i++) s += alphabet[((x = (x * 1103515245 + 12345) & 0x7fffffff) >>> 16) % alphabet.length];
  return s;
};

describe("countTextTokens equals gpt-tokenizer's cl100k count on ordinary text", () => {
  const cases: Array<[string, string]> = [
    ["Claude Code's real request (JSON)", JSON.stringify(fixture)],
    ["README (English prose, markdown)", readFileSync(join(root, "README.md"), "utf8")],
    ["TypeScript source", readFileSync(join(root, "src/config/load.ts"), "utf8")],
    ["CJK, emoji and accents", "日本語のテキストは、トークンが多くなります。😀👍🏽 émigré naïve ".repeat(50)],
    ["special-token text is counted as text", "a <|endoftext|> b <|fim_prefix|><|im_start|>"],
    ["hex digest", seeded("0123456789abcdef", MAX_PIECE - 1)],
    ["whitespace and newlines", "\n\n  \t\r\n    x  \n \n"],
  ];
  for (const [name, text] of cases) test(name, async () => expect(await countTextTokens(text)).toBe(oracle(text)));

  test("any string without a run longer than the piece bound", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "binary", maxLength: MAX_PIECE - 1 }), async (s) => expect(await countTextTokens(s)).toBe(oracle(s))),
      { numRuns: 300 },
    );
  });
});

describe("runs longer than a piece are cut, and stay close to the exact count", () => {
  for (const [name, text] of [
    ["DNA", seeded("ACGT", 8000)],
    ["random letters", seeded("abcdefghijklmnopqrstuvwxyz", 8000)],
    ["base64", seeded("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 8000)],
    ["a ==== rule", "=".repeat(8000)],
  ] as const)
    test(name, async () => {
      const exact = oracle(text);
      const n = await countTextTokens(text);
      // One token per cut at most: 8000 / MAX_PIECE cuts.
      expect(Math.abs(n - exact)).toBeLessThanOrEqual(Math.ceil(text.length / MAX_PIECE) + 1);
    });
});

describe("countRequestTokens", () => {
  test("counts system, messages, tools and images like the sum of their parts", async () => {
    const n = await countRequestTokens({
      system: "You are careful.",
      messages: [{ role: "user", content: [{ type: "text", text: "hello world" }, { type: "image", source: {} }] }],
      tools: [{ name: "Read", description: "Reads a file", input_schema: { type: "object" } }],
    });
    const text = ["You are careful.", "hello world", "Read", "Reads a file", JSON.stringify({ type: "object" })].map(oracle).reduce((a, b) => a + b);
    expect(n).toBe(text + 4 + 1600 + 8);
  });

  test("gives the event loop a turn while counting a megabyte of one letter run", async () => {
    let turns = 0;
    const tick = setInterval(() => turns++, 1);
    await countRequestTokens({ messages: [{ role: "user", content: seeded("ACGT", 1 << 20) }] });
    clearInterval(tick);
    expect(turns).toBeGreaterThan(0);
  });
});

describe("estimateTokens (the preview) tracks the count on ordinary text", () => {
  for (const [name, text] of [
    ["Claude Code's real request (JSON)", JSON.stringify(fixture)],
    ["README", readFileSync(join(root, "README.md"), "utf8")],
    ["TypeScript source", readFileSync(join(root, "src/config/load.ts"), "utf8")],
  ] as const)
    test(name, () => {
      const ratio = estimateTokens(text) / oracle(text);
      expect(ratio).toBeGreaterThan(0.8);
      expect(ratio).toBeLessThan(1.25);
    });

  test("a request estimate adds the same framing as the count", () => {
    expect(estimateRequestTokens({ messages: [{ role: "user", content: "abcd" }] })).toBe(1 + 4);
  });
});

test("released tables are built again by the next count, which is unchanged", async () => {
  const text = "The quick brown fox jumps over the lazy dog, 12345 times: ünïcödé and 日本語 too.";
  const before = await countTextTokens(text);
  releaseTokenizer();
  expect(await countTextTokens(text)).toBe(before);
});
