/** The prefix-cache model the stand-ins share: templates, slots, and what a note in the middle costs. */
import { describe, expect, test } from "bun:test";
import { PrefixCache, renderAnswer, renderChatml, renderOllama, type ChatMessage } from "./prefix-cache.ts";

const tools = [{ name: "Read", description: "Read a file", parameters: { type: "object" } }];
const history: ChatMessage[] = [
  { role: "system", content: "You are a coding agent." },
  { role: "user", content: "read a.txt" },
  { role: "assistant", content: "", tool_calls: [{ name: "Read", arguments: { file_path: "a.txt" } }] },
  { role: "tool", content: "hello" },
];
const note: ChatMessage = { role: "system", content: "Note: a.txt changed on disk." };

describe("templates", () => {
  test("ChatML keeps a system message where it stands", () => {
    const p = renderChatml([...history, note], tools);
    expect(p.indexOf("Note: a.txt")).toBeGreaterThan(p.indexOf("<tool_response>"));
  });
  test("Ollama's template moves every system message to the front, before the tools", () => {
    const p = renderOllama([...history, note], tools);
    expect(p.indexOf("Note: a.txt")).toBeLessThan(p.indexOf("# Tools"));
  });
});

describe("PrefixCache", () => {
  test("the next turn extends prompt + answer: all but the new part is cached", () => {
    const cache = new PrefixCache();
    const first = renderChatml(history.slice(0, 2), tools);
    cache.prefill("m", first).answered(renderAnswer({ text: "", tool_calls: [{ name: "Read", arguments: { file_path: "a.txt" } }] }));
    const second = cache.prefill("m", renderChatml(history, tools));
    expect(second.first).toBe(false);
    expect(second.cached / second.prompt).toBeGreaterThan(0.8);
    expect(second.evaluated).toBe(second.prompt - second.cached);
  });

  test("a note late in the conversation costs Ollama the whole prompt, ChatML only its own tokens", () => {
    for (const [render, low] of [[renderOllama, true], [renderChatml, false]] as const) {
      const cache = new PrefixCache();
      cache.prefill("m", render(history, tools)).answered("");
      const after = cache.prefill("m", render([...history, note], tools));
      expect(after.cached / after.prompt < 0.5).toBe(low);
    }
  });

  test("another conversation takes an empty slot instead of evicting this one; id_slot pins", () => {
    const cache = new PrefixCache(2);
    const a = renderChatml(history, tools);
    cache.prefill("m", a).answered("");
    const other = cache.prefill("m", renderChatml([{ role: "system", content: "You are a reviewer with other rules." }, { role: "user", content: "x" }], []));
    expect(other.slot).toBe(1);
    expect(cache.prefill("m", a).slot).toBe(0);
    expect(cache.prefill("m", a, 1).slot).toBe(1);
  });

  test("share counts only prompts after each slot's first", () => {
    const cache = new PrefixCache();
    cache.prefill("m", "a b c d").answered("");
    cache.prefill("m", "a b c d e f");
    expect(cache.share()).toBeCloseTo(cache.figures[1]!.cached / cache.figures[1]!.prompt);
  });
});
