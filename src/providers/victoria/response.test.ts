import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { aggregateStream } from "../../anthropic/stream.ts";
import { convertAll, convertStream } from "../../anthropic/converter.ts";
import { AnswerEvents, answerOf, chunkText, clarificationText, type RunUpdate } from "./response.ts";

const ids = { provider: "victoria", taskId: "t-1", correlationId: "req_1" };

async function* from<T>(xs: T[]) {
  yield* xs;
}

describe("chunkText", () => {
  test("pieces always join back to the text, never split a surrogate pair, and respect the size", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 400 }), fc.integer({ min: 2, max: 40 }), (text, max) => {
        const pieces = chunkText(text, max);
        expect(pieces.join("")).toBe(text);
        for (const p of pieces) {
          expect(p.length).toBeGreaterThan(0);
          expect(p.length).toBeLessThanOrEqual(max);
          expect(/^[\udc00-\udfff]/.test(p)).toBe(false);
        }
      }),
    );
  });

  test("prefers to end pieces at newlines", () => {
    expect(chunkText("ab\ncd\nef", 4)).toEqual(["ab\n", "cd\n", "ef"]);
  });
});

describe("answerOf", () => {
  test("success output stays exactly as sent; non-string output is shown as JSON", () => {
    expect(answerOf({ status: "success", output: "  a\n\tb\n" }, ids)).toEqual({ kind: "text", text: "  a\n\tb\n" });
    expect(answerOf({ status: "completed", output: { a: 1 } }, ids)).toEqual({ kind: "text", text: '{\n  "a": 1\n}' });
  });

  test("failed names the provider, task and correlation id and keeps Victoria's message", () => {
    expect(answerOf({ status: "failed", error: "boom" }, ids)).toEqual({ kind: "error", message: "victoria failed (task t-1, correlation id req_1): boom" });
  });

  test("clarification lists both question shapes and skips empty ones", () => {
    const text = clarificationText({ suggested_restatement: "Do X", clarification_questions: ["A?", { text: "B?" }, ""] });
    expect(text).toBe("Victoria needs clarification before she starts.\n\nSuggested restatement:\nDo X\n\nQuestions:\n1. A?\n2. B?\n\nAnswer the questions, or reply with the restatement, to continue.");
  });
});

describe("AnswerEvents", () => {
  test("progress goes to a thinking block before the text; usage estimates output tokens from the text", async () => {
    const updates: RunUpdate[] = [{ type: "progress", note: "queued\n" }, { type: "progress", note: "running\n" }, { type: "answer", answer: { kind: "text", text: "hello world" } }];
    const msg = await aggregateStream(convertStream(new AnswerEvents("victoria", 7), updates));
    expect(msg.content).toEqual([
      { type: "thinking", thinking: "queued\nrunning\n", signature: "" },
      { type: "text", text: "hello world" },
    ]);
    expect(msg.usage).toEqual({ input_tokens: 7, output_tokens: 3 });
    expect(msg.stop_reason).toBe("end_turn");
  });

  test("an answer that is an error is thrown, as every converter fails", () => {
    const updates: RunUpdate[] = [{ type: "progress", note: "x" }, { type: "answer", answer: { kind: "error", message: "late" } }];
    const events = convertAll(new AnswerEvents("victoria", 1), updates);
    expect(events.map((e) => e.type)).toEqual(["message_start", "content_block_start", "content_block_delta", "error"]);
  });

  // Victoria knows neither stop_sequences nor max_tokens; atrad holds the whole text.
  test("stop_sequences and max_tokens are enforced on the answer", async () => {
    const answer = (text: string, limits: { stopSequences?: string[]; maxTokens?: number }) =>
      aggregateStream(convertStream(new AnswerEvents("victoria", 1, limits), [{ type: "answer", answer: { kind: "text", text } }]));
    const stopped = await answer("alpha beta END gamma", { stopSequences: ["END"], maxTokens: 100 });
    expect([stopped.content, stopped.stop_reason, stopped.stop_sequence]).toEqual([[{ type: "text", text: "alpha beta " }], "stop_sequence", "END"] as never);
    const cut = await answer("one two three four five six seven eight", { maxTokens: 3 });
    const text = (cut.content[0] as { text: string }).text;
    expect([cut.stop_reason, cut.usage.output_tokens]).toEqual(["max_tokens", 3]);
    expect(text.startsWith("one two")).toBe(true);
    expect("one two three four five six seven eight".startsWith(text)).toBe(true);
  });
});
