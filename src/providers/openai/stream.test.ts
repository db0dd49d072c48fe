import { describe, expect, test } from "bun:test";
import { AtradError } from "../../anthropic/errors.ts";
import type { StreamEvent } from "../../anthropic/types.ts";
import { streamProblems } from "../../../test/support/stream-shape.ts";
import { mapFinishReason, StreamConverter, type ConverterOptions } from "./stream.ts";
import type { ChatChunk } from "./types.ts";

type Step = ChatChunk | "[DONE]";

function run(steps: Step[], opts: Partial<ConverterOptions> = {}): StreamEvent[] {
  let n = 0;
  const c = new StreamConverter({ model: "m", inputTokens: 10, messageId: "msg_1", newToolId: () => `toolu_gen${++n}`, ...opts });
  const out = c.start();
  for (const s of steps) out.push(...(s === "[DONE]" ? c.push("[DONE]") : c.pushChunk(s)));
  out.push(...c.end());
  expect(streamProblems(out)).toEqual([]);
  return out;
}

const text = (content: string, finish: string | null = null): ChatChunk => ({ choices: [{ index: 0, delta: { content }, finish_reason: finish }] });
const fin = (finish: string, extra: Record<string, unknown> = {}): ChatChunk => ({ choices: [{ index: 0, delta: {}, finish_reason: finish, ...extra }] });
const usage = (prompt: number, completion: number, cached?: number): ChatChunk => ({
  choices: [],
  usage: { prompt_tokens: prompt, completion_tokens: completion, ...(cached !== undefined ? { prompt_tokens_details: { cached_tokens: cached } } : {}) },
});
const tool = (index: number, id: string | undefined, name: string | undefined, args: unknown): ChatChunk => ({
  choices: [{ index: 0, delta: { tool_calls: [{ index, ...(id ? { id, type: "function" } : {}), function: { ...(name ? { name } : {}), arguments: args } }] }, finish_reason: null }],
});

/** Blocks folded from the events, for compact expectations. */
function blocks(events: StreamEvent[]): unknown[] {
  const out: Record<string, unknown>[] = [];
  for (const e of events) {
    if (e.type === "content_block_start") out[e.index] = { ...e.content_block };
    if (e.type === "content_block_delta") {
      const b = out[e.index]!;
      const d = e.delta as Record<string, string>;
      if (d.type === "text_delta") b.text = String(b.text) + d.text;
      if (d.type === "thinking_delta") b.thinking = String(b.thinking) + d.thinking;
      if (d.type === "input_json_delta") b.input = JSON.parse(String(d.partial_json));
    }
  }
  return out;
}
const final = (events: StreamEvent[]) => events.find((e) => e.type === "message_delta") as Extract<StreamEvent, { type: "message_delta" }>;

describe("StreamConverter", () => {
  test("StreamConverter_TextOnly", () => {
    const ev = run([text("Hel"), text("lo"), fin("stop"), usage(20, 2), "[DONE]"]);
    expect(ev[0]).toMatchObject({ type: "message_start", message: { id: "msg_1", model: "m", content: [], usage: { input_tokens: 10, output_tokens: 0 } } });
    expect(blocks(ev)).toEqual([{ type: "text", text: "Hello" }]);
    expect(final(ev)).toEqual({ type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 2, input_tokens: 20 } });
  });

  test("StreamConverter_MultilineTextByteForByte", () => {
    const s = "def f():\n    return 1\n\n\n\tx = [1,  2]\n";
    const ev = run([...s.match(/[\s\S]{1,3}/g)!.map((p) => text(p)), fin("stop"), "[DONE]"]);
    expect(blocks(ev)).toEqual([{ type: "text", text: s }]);
  });

  test("StreamConverter_ReasoningThenText", () => {
    const ev = run([{ choices: [{ delta: { reasoning: "think " } }] }, { choices: [{ delta: { reasoning: "more" } }] }, text("answer"), fin("stop"), "[DONE]"]);
    expect(blocks(ev)).toEqual([{ type: "thinking", thinking: "think more", signature: "" }, { type: "text", text: "answer" }]);
  });

  test("StreamConverter_ReasoningContentField", () => {
    const ev = run([{ choices: [{ delta: { reasoning_content: "r", content: null } }] }, text("t", "stop"), "[DONE]"]);
    expect(blocks(ev)).toEqual([{ type: "thinking", thinking: "r", signature: "" }, { type: "text", text: "t" }]);
  });

  test("StreamConverter_WholeToolCall", () => {
    // mlx_lm.server: the call arrives whole, in the same final chunk as the finish_reason.
    const last: ChatChunk = {
      choices: [{ index: 0, finish_reason: "tool_calls", delta: { role: "assistant", tool_calls: [{ function: { name: "Write", arguments: '{"file_path": "/a", "content": "x"}' }, type: "function", id: "0b8f2a52-7d3e-4c1b-9a57-123456789abc", index: 0 }] } }],
    };
    const ev = run([text("I'll write it."), last, usage(30, 12), "[DONE]"]);
    expect(blocks(ev)).toEqual([
      { type: "text", text: "I'll write it." },
      { type: "tool_use", id: "0b8f2a52-7d3e-4c1b-9a57-123456789abc", name: "Write", input: { file_path: "/a", content: "x" } },
    ]);
    expect(final(ev).delta.stop_reason).toBe("tool_use");
    // Exactly one input_json_delta per tool_use block.
    expect(ev.filter((e) => e.type === "content_block_delta" && e.index === 1)).toHaveLength(1);
  });

  test("StreamConverter_PiecewiseToolCall", () => {
    const ev = run([tool(0, "call_1", "Read", ""), tool(0, undefined, undefined, '{"pa'), tool(0, undefined, undefined, 'th": "/tmp'), tool(0, undefined, undefined, '/a"}'), fin("tool_calls"), "[DONE]"]);
    expect(blocks(ev)).toEqual([{ type: "tool_use", id: "call_1", name: "Read", input: { path: "/tmp/a" } }]);
    expect(final(ev).delta.stop_reason).toBe("tool_use");
  });

  test("StreamConverter_TwoPiecewiseToolCallsKeepOrder", () => {
    const ev = run([tool(0, "c1", "A", '{"x":'), tool(1, "c2", "B", '{"y":'), tool(0, undefined, undefined, "1}"), tool(1, undefined, undefined, "2}"), fin("tool_calls"), "[DONE]"]);
    expect(blocks(ev)).toEqual([
      { type: "tool_use", id: "c1", name: "A", input: { x: 1 } },
      { type: "tool_use", id: "c2", name: "B", input: { y: 2 } },
    ]);
  });

  test("StreamConverter_ToolCallRepaired", () => {
    const ev = run([tool(0, "c1", "Bash", "```json\n{'command': 'ls',}\n```"), fin("tool_calls"), "[DONE]"]);
    expect(blocks(ev)).toEqual([{ type: "tool_use", id: "c1", name: "Bash", input: { command: "ls" } }]);
  });

  test("StreamConverter_ToolCallUnrepairableBecomesText", () => {
    const ev = run([tool(0, "c1", "Write", '{"file_path": "/a", "content": "cut of'), fin("length"), "[DONE]"]);
    const b = blocks(ev) as Array<{ type: string; text: string }>;
    expect(b).toHaveLength(1);
    expect(b[0]!.type).toBe("text");
    expect(b[0]!.text).toContain('tool "Write"');
    expect(b[0]!.text).toContain("cut off");
    expect(final(ev).delta.stop_reason).toBe("max_tokens");
  });

  test("StreamConverter_OnlyFailedToolCallIsEndTurn", () => {
    const ev = run([tool(0, "c1", "Write", "[1,2]"), fin("tool_calls"), "[DONE]"]);
    expect(final(ev).delta.stop_reason).toBe("end_turn");
  });

  test("StreamConverter_ToolCallWithoutNameBecomesText", () => {
    const ev = run([tool(0, "c1", undefined, "{}"), fin("tool_calls"), "[DONE]"]);
    expect((blocks(ev)[0] as { text: string }).text).toContain("no tool name");
  });

  test("StreamConverter_ToolCallIdGeneratedWhenMissingOrInvalid", () => {
    const ev = run([tool(0, undefined, "A", "{}"), tool(1, "bad id!", "B", "{}"), fin("tool_calls"), "[DONE]"]);
    expect(blocks(ev).map((b) => (b as { id: string }).id)).toEqual(["toolu_gen1", "toolu_gen2"]);
  });

  test("StreamConverter_ToolCallsWithoutIndex", () => {
    const noIndex = (id: string | undefined, name: string | undefined, args: string): ChatChunk => ({ choices: [{ delta: { tool_calls: [{ ...(id ? { id } : {}), function: { ...(name ? { name } : {}), arguments: args } }] } }] });
    const ev = run([noIndex("a", "A", '{"k":'), noIndex(undefined, undefined, "1}"), noIndex("b", "B", "{}"), fin("tool_calls"), "[DONE]"]);
    expect(blocks(ev)).toEqual([
      { type: "tool_use", id: "a", name: "A", input: { k: 1 } },
      { type: "tool_use", id: "b", name: "B", input: {} },
    ]);
  });

  test("StreamConverter_RepeatedNameNotDoubled", () => {
    const ev = run([tool(0, "c", "Read", '{"a":'), tool(0, undefined, "Read", "1}"), fin("tool_calls"), "[DONE]"]);
    expect((blocks(ev)[0] as { name: string }).name).toBe("Read");
  });

  test("StreamConverter_ArgumentsAsObject", () => {
    const ev = run([tool(0, "c", "Read", { path: "/x" }), fin("tool_calls"), "[DONE]"]);
    expect(blocks(ev)).toEqual([{ type: "tool_use", id: "c", name: "Read", input: { path: "/x" } }]);
  });

  test("StreamConverter_TextAfterToolCallKeepsOrder", () => {
    const ev = run([tool(0, "c", "A", "{}"), text("after"), fin("tool_calls"), "[DONE]"]);
    expect(blocks(ev)).toEqual([{ type: "tool_use", id: "c", name: "A", input: {} }, { type: "text", text: "after" }]);
  });

  test("StreamConverter_EmptyResponse", () => {
    const ev = run([fin("stop"), "[DONE]"]);
    expect(blocks(ev)).toEqual([]);
    expect(final(ev).delta.stop_reason).toBe("end_turn");
  });

  test("StreamConverter_DoneWithoutFinishReasonEndsTurn", () => {
    expect(final(run([text("x"), "[DONE]"])).delta.stop_reason).toBe("end_turn");
  });

  test("StreamConverter_FinishWithoutDoneIsEnough", () => {
    expect(final(run([text("x", "length")])).delta.stop_reason).toBe("max_tokens");
  });

  test("StreamConverter_StopSequenceFromVllmStopReason", () => {
    const ev = run([text("a"), fin("stop", { stop_reason: "END" }), "[DONE]"], { stopSequences: ["END"] });
    expect(final(ev).delta).toEqual({ stop_reason: "stop_sequence", stop_sequence: "END" });
  });

  test("StreamConverter_StopTokenIdIsNotAStopSequence", () => {
    const ev = run([text("a"), fin("stop", { stop_reason: 151645 }), "[DONE]"], { stopSequences: ["END"] });
    expect(final(ev).delta).toEqual({ stop_reason: "end_turn", stop_sequence: null });
  });

  test("StreamConverter_CachedTokensSplitOut", () => {
    const ev = run([text("a", "stop"), usage(1000, 5, 900), "[DONE]"]);
    expect(final(ev).usage).toEqual({ output_tokens: 5, input_tokens: 100, cache_read_input_tokens: 900 });
  });

  test("StreamConverter_NoUsageEstimatesOutput", () => {
    const ev = run([text("hello world, this is text"), fin("stop"), "[DONE]"]);
    expect(final(ev).usage!.output_tokens).toBeGreaterThan(3);
    expect(final(ev).usage).not.toHaveProperty("input_tokens");
  });

  const finishes: Array<[string, string | null, string]> = [
    ["StreamConverter_FinishStop", "stop", "end_turn"],
    ["StreamConverter_FinishLength", "length", "max_tokens"],
    ["StreamConverter_FinishToolCalls", "tool_calls", "tool_use"],
    ["StreamConverter_FinishFunctionCall", "function_call", "tool_use"],
    ["StreamConverter_FinishContentFilter", "content_filter", "refusal"],
    ["StreamConverter_FinishUnknown", "eos", "end_turn"],
    ["StreamConverter_FinishNull", null, "end_turn"],
  ];
  for (const [name, reason, stop] of finishes) test(name, () => expect(mapFinishReason(reason)).toBe(stop as never));
});

describe("StreamConverter failures", () => {
  const conv = () => new StreamConverter({ model: "m", inputTokens: 1, label: "mlx/qwen" });

  test("StreamConverter_CutStreamThrows", () => {
    const c = conv();
    c.start();
    c.pushChunk(text("partial"));
    expect(() => c.end()).toThrow(/mlx\/qwen ended the stream mid-response/);
  });

  test("StreamConverter_GarbageThrows", () => {
    const c = conv();
    expect(() => c.push("<html>oops")).toThrow(AtradError);
    expect(() => c.push("42")).toThrow(/unexpected stream chunk/);
  });

  test("StreamConverter_ErrorChunkThrowsWithUpstreamMessage", () => {
    const c = conv();
    let err: unknown;
    try {
      c.push(JSON.stringify({ error: { message: "CUDA out of memory", code: 503 } }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AtradError);
    expect((err as AtradError).type).toBe("overloaded_error");
    expect((err as AtradError).message).toContain("CUDA out of memory");
  });

  test("StreamConverter_StringErrorChunk", () => {
    expect(() => conv().push('{"error":"boom"}')).toThrow(/failed mid-response: boom/);
  });

  test("StreamConverter_ProcessBeforeStartStillStartsOnce", () => {
    const c = conv();
    const ev = [...c.pushChunk(text("a", "stop")), ...c.start(), ...c.end()];
    expect(ev.filter((e) => e.type === "message_start")).toHaveLength(1);
    expect(streamProblems(ev)).toEqual([]);
  });
});
