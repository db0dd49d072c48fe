import { describe, expect, test } from "bun:test";
import { AtradError } from "./errors.ts";
import { aggregateStream, guardStream, messageToEvents } from "./stream.ts";
import { emptyMessage, type Message, type StreamEvent } from "./types.ts";

async function* from(events: StreamEvent[], thenThrow?: Error): AsyncGenerator<StreamEvent> {
  for (const e of events) yield e;
  if (thenThrow) throw thenThrow;
}
const collect = async (it: AsyncIterable<StreamEvent>) => {
  const out: StreamEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
};
const start: StreamEvent = { type: "message_start", message: emptyMessage("m", "msg_1", 5) };

describe("guardStream", () => {
  test("Complete_PassesThroughUnchanged", async () => {
    const events: StreamEvent[] = [start, { type: "message_delta", delta: { stop_reason: "end_turn" } }, { type: "message_stop" }];
    expect(await collect(guardStream(from(events), "up"))).toEqual(events);
  });
  test("EndsWithoutMessageStop_AddsErrorNamingUpstream", async () => {
    const out = await collect(guardStream(from([start]), "ollama/x"));
    expect(out.at(-1)).toMatchObject({ type: "error", error: { type: "api_error" } });
    expect((out.at(-1) as any).error.message).toContain("ollama/x");
  });
  test("Throws_BecomesErrorEvent", async () => {
    const out = await collect(guardStream(from([start], new AtradError("overloaded_error", "busy")), "up"));
    expect(out.at(-1)).toEqual({ type: "error", error: { type: "overloaded_error", message: "busy" } });
  });
  test("NothingAfterTerminal", async () => {
    const out = await collect(guardStream(from([start, { type: "message_stop" }, { type: "ping" }]), "up"));
    expect(out.at(-1)!.type).toBe("message_stop");
  });
});

describe("aggregateStream / messageToEvents", () => {
  const message: Message = {
    ...emptyMessage("m", "msg_2", 7),
    content: [
      { type: "thinking", thinking: "hmm", signature: "sig" },
      { type: "text", text: "line 1\n\n    indented\n" },
      { type: "tool_use", id: "toolu_1", name: "Write", input: { file_path: "/a", content: "x" } },
    ],
    stop_reason: "tool_use",
    usage: { input_tokens: 7, output_tokens: 20 },
  };
  test("RoundTrip_MessageToEventsToMessage", async () => {
    expect(await aggregateStream(messageToEvents(message))).toEqual(message);
  });
  test("ErrorEvent_Throws", async () => {
    const err = await aggregateStream(from([start, { type: "error", error: { type: "api_error", message: "boom" } }])).catch((e) => e);
    expect(err).toBeInstanceOf(AtradError);
    expect(err.message).toBe("boom");
  });
  test("PiecewiseToolJson_IsJoined", async () => {
    const events: StreamEvent[] = [
      start,
      { type: "content_block_start", index: 0, content_block: { type: "tool_use", id: "t", name: "n", input: {} } },
      { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: '{"a":' } },
      { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: "[1,2]}" } },
      { type: "content_block_stop", index: 0 },
      { type: "message_stop" },
    ];
    expect((await aggregateStream(from(events))).content[0]).toEqual({ type: "tool_use", id: "t", name: "n", input: { a: [1, 2] } });
  });
});
