import { describe, expect, test } from "bun:test";
import type { StreamEvent } from "../../anthropic/types.ts";
import { NdjsonSplitter } from "../../wire/ndjson.ts";
import { convertAll } from "../../anthropic/converter.ts";
import { OllamaStreamConverter } from "./stream.ts";

const line = (o: object) => JSON.stringify(o) + "\n";
const msg = (m: object, extra: object = {}) => line({ model: "m", created_at: "2026-01-01T00:00:00Z", message: { role: "assistant", content: "", ...m }, done: false, ...extra });
const done = (extra: object = {}) => line({ model: "m", message: { role: "assistant", content: "" }, done: true, done_reason: "stop", prompt_eval_count: 30, eval_count: 7, ...extra });

function convert(ndjson: string, chunkSize = 0): StreamEvent[] {
  let n = 0;
  const c = new OllamaStreamConverter({ model: "m", inputTokens: 99, messageId: "msg_test", newToolId: () => `toolu_${++n}` });
  // Framed as the adapter frames it: bytes split anywhere, complete lines to the converter.
  const splitter = new NdjsonSplitter("m");
  const bytes = new TextEncoder().encode(ndjson);
  const step = chunkSize || bytes.length;
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += step) lines.push(...splitter.push(bytes.subarray(i, i + step)));
  lines.push(...splitter.end());
  return convertAll(c, lines);
}

/** A compact view of the events: type[index] plus the delta payload. */
function view(events: StreamEvent[]): string[] {
  return events.map((e) => {
    switch (e.type) {
      case "content_block_start":
        return `start[${e.index}] ${e.content_block.type}${e.content_block.type === "tool_use" ? ` ${(e.content_block as any).id} ${(e.content_block as any).name}` : ""}`;
      case "content_block_delta": {
        const d = e.delta as any;
        return `delta[${e.index}] ${d.text ?? d.thinking ?? d.partial_json}`;
      }
      case "content_block_stop":
        return `stop[${e.index}]`;
      case "message_delta":
        return `message_delta ${e.delta.stop_reason} ${e.usage?.input_tokens}/${e.usage?.output_tokens}`;
      case "error":
        return `error ${e.error.type}: ${e.error.message}`;
      default:
        return e.type;
    }
  });
}

const cases: Array<{ name: string; ndjson: string; want: string[] }> = [
  {
    name: "StreamConverter_TextOnly",
    ndjson: msg({ content: "Hello" }) + msg({ content: ",\n\n  world" }) + done(),
    want: ["message_start", "start[0] text", "delta[0] Hello", "delta[0] ,\n\n  world", "stop[0]", "message_delta end_turn 30/7", "message_stop"],
  },
  {
    name: "StreamConverter_ThinkingThenToolCall",
    ndjson:
      msg({ thinking: "Need to " }) + msg({ thinking: "write." }) + msg({ content: "Writing." }) +
      msg({ tool_calls: [{ function: { name: "Write", arguments: { file_path: "/a", content: "x" } } }] }) + done(),
    want: [
      "message_start", "start[0] thinking", "delta[0] Need to ", "delta[0] write.", "stop[0]", "start[1] text", "delta[1] Writing.", "stop[1]",
      "start[2] tool_use toolu_1 Write", 'delta[2] {"file_path":"/a","content":"x"}', "stop[2]", "message_delta tool_use 30/7", "message_stop",
    ],
  },
  {
    name: "StreamConverter_TwoToolCallsInOneChunk",
    ndjson: msg({ tool_calls: [{ id: "call_a", function: { name: "Read", arguments: { path: "/a" } } }, { function: { name: "Read", arguments: { path: "/b" } } }] }) + done(),
    want: ["message_start", "start[0] tool_use call_a Read", 'delta[0] {"path":"/a"}', "stop[0]", "start[1] tool_use toolu_1 Read", 'delta[1] {"path":"/b"}', "stop[1]", "message_delta tool_use 30/7", "message_stop"],
  },
  {
    name: "StreamConverter_ArgumentsAsStringRepaired",
    ndjson: msg({ tool_calls: [{ function: { name: "Bash", arguments: "{'command': 'ls',}" } }] }) + done(),
    want: ["message_start", "start[0] tool_use toolu_1 Bash", 'delta[0] {"command":"ls"}', "stop[0]", "message_delta tool_use 30/7", "message_stop"],
  },
  {
    name: "StreamConverter_ArgumentsNotObjectBecomeText",
    ndjson: msg({ tool_calls: [{ function: { name: "Bash", arguments: [1, 2] } }] }) + done(),
    want: ["message_start", "start[0] text", 'delta[0] \n[atrad] The model tried to call tool "Bash", but the call was not usable: the arguments are an array, not a JSON object. Raw arguments:\n[1,2]\n', "stop[0]", "message_delta end_turn 30/7", "message_stop"],
  },
  {
    name: "StreamConverter_DoneReasonLength",
    ndjson: msg({ content: "cut" }) + done({ done_reason: "length" }),
    want: ["message_start", "start[0] text", "delta[0] cut", "stop[0]", "message_delta max_tokens 30/7", "message_stop"],
  },
  {
    name: "StreamConverter_MidStreamError",
    ndjson: msg({ content: "par" }) + line({ error: "model runner has unexpectedly stopped" }) + done(),
    want: ["message_start", "start[0] text", "delta[0] par", "error api_error: upstream error: model runner has unexpectedly stopped"],
  },
  {
    name: "StreamConverter_MissingCountsEstimated",
    ndjson: msg({ content: "hello world" }) + line({ model: "m", message: { role: "assistant", content: "" }, done: true }),
    want: ["message_start", "start[0] text", "delta[0] hello world", "stop[0]", "message_delta end_turn 99/3", "message_stop"],
  },
  {
    name: "StreamConverter_NotJsonLine",
    ndjson: msg({ content: "a" }) + "<html>oops</html>\n",
    want: ["message_start", "start[0] text", "delta[0] a", "error api_error: upstream sent a line that is not JSON: <html>oops</html>"],
  },
  {
    name: "StreamConverter_LastLineWithoutNewline",
    ndjson: msg({ content: "a" }) + done().trimEnd(),
    want: ["message_start", "start[0] text", "delta[0] a", "stop[0]", "message_delta end_turn 30/7", "message_stop"],
  },
  {
    name: "StreamConverter_NothingAfterDone",
    ndjson: msg({ content: "a" }) + done() + msg({ content: "late" }),
    want: ["message_start", "start[0] text", "delta[0] a", "stop[0]", "message_delta end_turn 30/7", "message_stop"],
  },
  {
    name: "StreamConverter_EndsWithoutDone",
    ndjson: msg({ content: "a" }),
    want: ["message_start", "start[0] text", "delta[0] a"],
  },
];

describe("OllamaStreamConverter", () => {
  for (const c of cases) {
    test(c.name, () => {
      expect(view(convert(c.ndjson))).toEqual(c.want);
    });
  }

  test("StreamConverter_LinesSplitAnywhere", () => {
    for (const c of cases) for (const size of [1, 3, 17]) expect(view(convert(c.ndjson, size))).toEqual(c.want);
  });

  test("StreamConverter_MessageStartCarriesEstimate", () => {
    const [start] = convert(done());
    expect(start).toMatchObject({ type: "message_start", message: { id: "msg_test", model: "m", role: "assistant", content: [], usage: { input_tokens: 99, output_tokens: 0 } } });
  });
});
